"""carm_portal.reversing and ``{% url %}``: Django's answers, remembered, and never stale.

Each figure is compared with Django's own ``reverse`` (an outside reference), so a wrong key in the
table (a missing argument, current_app or URLconf) shows as a different URL."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.urls import NoReverseMatch, include, path
from django.urls import reverse as django_reverse
from django.utils.safestring import mark_safe

from carm_portal import reversing
from carm_portal.templatetags.url_tag import RememberedURLNode


def _view(request, pk):  # pragma: no cover - only reversed, never called
    return HttpResponse()


# A second URLconf where the same name leads elsewhere: the table must not keep the first answer.
urlpatterns = [
    path("elsewhere/", include(([path("<int:pk>/", _view, name="importer_detail")], "clients"))),
]


@pytest.fixture(autouse=True)
def _empty_table():
    reversing._reverse.cache_clear()
    yield
    reversing._reverse.cache_clear()


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("home", None, None),
        ("clients:importer_detail", [7], None),
        ("clients:importer_detail", ["7"], None),
        ("statements:reconciliation", [3, 41], None),
        ("clients:importer_detail", None, {"pk": 12}),
        ("admin:index", None, None),
    ],
)
def test_the_same_url_as_django_first_and_from_the_table(name, args, kwargs):
    expected = django_reverse(name, args=args, kwargs=kwargs)
    assert reversing.reverse(name, args=args, kwargs=kwargs) == expected
    hits = reversing._reverse.cache_info().hits
    assert reversing.reverse(name, args=args, kwargs=kwargs) == expected
    assert reversing._reverse.cache_info().hits == hits + 1


def test_different_arguments_are_different_entries():
    assert reversing.reverse("clients:importer_detail", args=[1]) != reversing.reverse(
        "clients:importer_detail", args=[2]
    )
    assert reversing._reverse.cache_info().currsize == 2


def test_safe_strings_are_plain_text_and_other_values_go_to_django_each_time():
    from clients.models import Importer

    name = mark_safe("clients:importer_detail")  # as a template literal resolves
    assert reversing.reverse(name, args=[5]) == django_reverse("clients:importer_detail", args=[5])
    assert reversing._reverse.cache_info().currsize == 1
    # A model is reversed by Django as str(model), its name, which may change: never kept.
    importer = Importer(pk=5, legal_name="Rideau Imports")
    with pytest.raises(NoReverseMatch):
        reversing.reverse("clients:importer_detail", args=[importer])
    assert reversing._reverse.cache_info().currsize == 1


def test_no_reverse_match_is_raised_and_not_remembered():
    with pytest.raises(NoReverseMatch):
        reversing.reverse("clients:no_such_page")
    with pytest.raises(NoReverseMatch):
        reversing.reverse("clients:importer_detail", args=["not-a-number"])
    assert reversing._reverse.cache_info().currsize == 0


def test_a_new_urlconf_empties_the_table():
    assert reversing.reverse("clients:importer_detail", args=[9]) == "/clients/9/"
    with override_settings(ROOT_URLCONF=__name__):
        assert reversing.reverse("clients:importer_detail", args=[9]) == "/elsewhere/9/"
    assert reversing.reverse("clients:importer_detail", args=[9]) == "/clients/9/"


def test_the_script_prefix_is_part_of_the_key():
    from django.urls import set_script_prefix

    plain = reversing.reverse("clients:importer_detail", args=[4])
    set_script_prefix("/portal/")
    try:
        assert reversing.reverse("clients:importer_detail", args=[4]) == "/portal" + plain
    finally:
        set_script_prefix("/")


def test_the_url_tag_is_ours_and_answers_as_djangos():
    template = Template(
        "{% url 'clients:importer_detail' pk %}|{% url 'statements:reconciliation' 3 run %}"
        "|{% url 'clients:nothing' as missing %}[{{ missing }}]|{% url view_name pk=pk %}"
    )
    assert isinstance(template.nodelist[0], RememberedURLNode)
    request = RequestFactory().get("/")
    html = template.render(
        Context({"pk": 8, "run": 2, "view_name": "clients:importer_detail", "request": request})
    )
    assert html == "|".join(
        [
            django_reverse("clients:importer_detail", args=[8]),
            django_reverse("statements:reconciliation", args=[3, 2]),
            "[]",
            django_reverse("clients:importer_detail", args=[8]),
        ]
    )
    with pytest.raises(NoReverseMatch):
        Template("{% url 'clients:nothing' %}").render(Context())
