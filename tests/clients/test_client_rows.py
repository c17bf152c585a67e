"""The client list's rows (``{% importer_rows %}``) against the template markup they replaced:
the same bytes, in both languages, for values that need escaping and every optional part."""

from __future__ import annotations

import pytest
from django.db.models import prefetch_related_objects
from django.template import Context, Template
from django.utils import translation

from carm_portal.models import User
from clients.models import Importer, OnboardingStep
from clients.views import checklist_prefetch, checklist_statuses
from tests.factories import ImporterFactory

Step, Status = OnboardingStep.Step, OnboardingStep.Status

# templates/clients/importer_list.html's table body before the rows were written in Python, on
# the view's former data: ``checklist_rows`` (prefetched step rows).
TEMPLATE_ROWS = Template(
    "{% load i18n carm_ui %}"
    '{% translate "BN9" as label_bn9 %}{% translate "Status" as status_label %}'
    '{% translate "Agent" as agent_label %}{% translate "Checklist" as checklist_label %}'
    """
      <tbody>
        {% for importer in importers %}
          <tr>
            <td>
              <a class="table__primary" href="{{ importer.get_absolute_url }}">{{ importer.legal_name }}</a>
              {% if importer.operating_name %}<span class="table__secondary">{{ importer.operating_name }}</span>{% endif %}
            </td>
            <td class="mono" data-label="{{ label_bn9 }}">{{ importer.bn9 }}</td>
            <td data-label="{{ status_label }}">{% badge importer.status importer.get_status_display %}</td>
            <td data-label="{{ agent_label }}">{% if importer.assigned_agent %}{{ importer.assigned_agent.get_full_name }}{% else %}<span class="muted">{% translate "Not assigned" %}</span>{% endif %}</td>
            <td data-label="{{ checklist_label }}">{% step_bar importer.checklist_rows %}</td>
          </tr>
        {% endfor %}
      </tbody>"""  # the template's own lines
)

PYTHON_ROWS = Template(
    """{% load client_rows %}
      <tbody>
        {% importer_rows importers %}
      </tbody>"""
)


def importers() -> list[Importer]:
    named = User(pk=1, email="a@broker.example", full_name='Zoë <b>"O\'Neil"</b> & co')
    unnamed = User(pk=2, email="x&y@broker.example", full_name="")
    rows = []
    for n, (status, agent, operating) in enumerate(
        [
            (Importer.Status.PROSPECT, named, "Shop <i>&</i> 'more'"),
            (Importer.Status.ONBOARDING, unnamed, ""),
            (Importer.Status.ACTIVE, None, "Plain"),
            (Importer.Status.INACTIVE, named, ""),
            ("retired", None, ""),  # a value with no label: Django shows the value
        ],
        start=1,
    ):
        importer = Importer(
            pk=n,
            legal_name=f'Acme <script>"{n}"</script> & Fils',
            operating_name=operating,
            bn9=f"12345678{n}",
            status=status,
            assigned_agent=agent,
        )
        importer.checklist_rows = [  # type: ignore[attr-defined]  # as the page prefetches them
            OnboardingStep(step=Step.values[k], status=s)
            for k, s in enumerate([Status.DONE, Status.BLOCKED, Status.IN_PROGRESS][: n % 4])
        ]
        importer.checklist_statuses = [  # type: ignore[attr-defined]  # as the view sets them
            (row.step, row.status)
            for row in importer.checklist_rows  # type: ignore[attr-defined]
        ]
        rows.append(importer)
    return rows


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_rows_are_the_templates_rows(language):
    with translation.override(language):
        context = {"importers": importers()}
        expected = TEMPLATE_ROWS.render(Context(context))
        assert PYTHON_ROWS.render(Context(context)) == expected
    assert "&lt;script&gt;&quot;1&quot;" in expected and "retired" in expected


def test_no_importers_no_rows():
    assert PYTHON_ROWS.render(Context({"importers": []})) == TEMPLATE_ROWS.render(
        Context({"importers": []})
    )


@pytest.mark.django_db
def test_checklist_statuses_are_the_prefetched_rows(django_assert_num_queries):
    started, untouched, full, other = (ImporterFactory() for _ in range(4))
    OnboardingStep.objects.filter(importer=untouched).delete()
    for importer, step, status in [
        (started, 3, Status.DONE),
        (started, 1, Status.BLOCKED),
        (started, 6, Status.IN_PROGRESS),
        *((full, step, Status.DONE) for step in Step.values),
        (other, 1, Status.DONE),
    ]:
        OnboardingStep.objects.update_or_create(
            importer=importer, step=step, defaults={"status": status}
        )
    importers = [started, untouched, full]
    prefetch_related_objects(importers, checklist_prefetch())

    with django_assert_num_queries(1):
        statuses = checklist_statuses([i.pk for i in importers])

    assert {pk: sorted(pairs) for pk, pairs in statuses.items()} == {
        i.pk: [(row.step, row.status) for row in i.checklist_rows] for i in importers
    }
    with django_assert_num_queries(0):
        assert checklist_statuses([]) == {}
    assert statuses[untouched.pk] == []
    assert sorted(statuses[started.pk])[0] == (1, Status.BLOCKED)
