"""Who gets what on every clients page: the personas of the test kit against importer A.

200/302 = allowed, 403 = may see importer A but not do this, 404 = may not see importer A at all.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from clients.models import PortalUser
from tests.factories import PortalUserFactory
from tests.kit import persona_cases

# url name, method, expected status per persona (in the order of tests.kit.PERSONAS):
#   broker admin, agent, finance; importer A's BAM, finance member, employee; importer B's BAM.
# A POST with no data re-shows the form (200) when allowed; the step POST redirects (302).
TABLE = [
    ("home", "get", (200, 200, 200, 200, 200, 200, 200)),
    ("clients:importer_list", "get", (200, 200, 200, 200, 200, 200, 200)),
    ("clients:importer_create", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("clients:importer_create", "post", (200, 200, 403, 403, 403, 403, 403)),
    ("clients:importer_detail", "get", (200, 200, 200, 200, 200, 200, 404)),
    ("clients:importer_edit", "get", (200, 200, 403, 403, 403, 403, 404)),
    ("clients:importer_edit", "post", (200, 200, 403, 403, 403, 403, 404)),
    ("clients:account_create", "get", (200, 200, 403, 403, 403, 403, 404)),
    ("clients:account_create", "post", (200, 200, 403, 403, 403, 403, 404)),
    ("clients:account_edit", "get", (200, 200, 403, 403, 403, 403, 404)),
    ("clients:account_edit", "post", (200, 200, 403, 403, 403, 403, 404)),
    ("clients:person_create", "get", (200, 200, 403, 200, 403, 403, 404)),
    ("clients:person_create", "post", (200, 200, 403, 200, 403, 403, 404)),
    ("clients:person_edit", "get", (200, 200, 403, 200, 403, 403, 404)),
    ("clients:person_edit", "post", (200, 200, 403, 200, 403, 403, 404)),
    ("clients:step_update", "post", (302, 302, 403, 403, 403, 403, 404)),
]

CASES = persona_cases(TABLE)


def _url(name: str, personas) -> str:
    importer = personas.importer_a
    if name in ("home", "clients:importer_list", "clients:importer_create"):
        return reverse(name)
    if name == "clients:account_edit":
        account = importer.program_accounts.get()
        return reverse(name, args=[importer.pk, account.pk])
    if name == "clients:person_edit":
        person = PortalUserFactory(importer=importer, ccp_role=PortalUser.CcpRole.BAM)
        return reverse(name, args=[importer.pk, person.pk])
    if name == "clients:step_update":
        return reverse(name, args=[importer.pk, 5])  # a manual step (step 1 follows securities)
    return reverse(name, args=[importer.pk])


@pytest.mark.parametrize(("name", "method", "persona", "expected"), CASES)
def test_each_persona_gets_the_expected_status(
    personas, client_for, name, method, persona, expected
):
    url = _url(name, personas)
    client = client_for(personas.all()[persona])

    if method == "get":
        response = client.get(url)
    elif name == "clients:step_update":
        response = client.post(url, {"status": "in_progress", "note": ""})
    else:
        response = client.post(url, {})

    assert response.status_code == expected


@pytest.mark.parametrize(("name", "method"), sorted({(name, method) for name, method, _ in TABLE}))
def test_anonymous_is_sent_to_the_login_page(personas, client, name, method):
    url = _url(name, personas)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


def test_the_step_update_refuses_get(personas, client_for):
    url = reverse("clients:step_update", args=[personas.importer_a.pk, 1])

    response = client_for(personas.broker_agent).get(url)

    assert response.status_code == 405


def test_an_account_of_another_importer_is_not_found_under_importer_a(personas, client_for):
    other = personas.importer_b.program_accounts.get()
    url = reverse("clients:account_edit", args=[personas.importer_a.pk, other.pk])

    response = client_for(personas.broker_admin).get(url)

    assert response.status_code == 404


def test_a_person_of_another_importer_is_not_found_under_importer_a(personas, client_for):
    other = PortalUserFactory(importer=personas.importer_b)
    url = reverse("clients:person_edit", args=[personas.importer_a.pk, other.pk])

    response = client_for(personas.bam_a).get(url)

    assert response.status_code == 404


def test_an_unknown_step_is_not_found(personas, client_for):
    url = reverse("clients:step_update", args=[personas.importer_a.pk, 8])

    response = client_for(personas.broker_admin).post(url, {"status": "done"})

    assert response.status_code == 404


def test_forbidden_and_not_found_pages_are_friendly(personas, client_for):
    client = client_for(personas.bam_b)

    not_found = client.get(reverse("clients:importer_detail", args=[personas.importer_a.pk]))
    forbidden = client.get(reverse("clients:importer_create"))

    assert not_found.status_code == 404
    assert "We could not find that page" in not_found.content.decode()
    assert forbidden.status_code == 403
    assert "Your role does not allow this" in forbidden.content.decode()
