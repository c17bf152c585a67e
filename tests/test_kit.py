"""The test kit's own rules: every table row names every persona, a known bug runs as strict xfail."""

import pytest

from tests.kit import PERSONAS, by_persona, known_bug, persona_cases


def test_the_cast_is_seven_personas_in_table_order():
    assert PERSONAS == (
        "broker_admin",
        "broker_agent",
        "broker_finance",
        "bam_a",
        "finance_a",
        "employee_a",
        "bam_b",
    )


def test_personas_all_follows_the_table_order(personas):
    assert list(personas.all()) == list(PERSONAS)
    assert personas.finance_a.memberships.get().role == "finance"
    assert personas.finance_a.memberships.get().importer == personas.importer_a


def test_a_row_gives_one_case_per_persona_with_a_readable_id():
    cases = persona_cases([("home", "get", (200, 201, 202, 203, 204, 205, 206))])

    assert [case.values for case in cases] == [
        ("home", "get", persona, 200 + i) for i, persona in enumerate(PERSONAS)
    ]
    assert [case.id for case in cases] == [f"home-get-{persona}" for persona in PERSONAS]


def test_a_dict_table_and_a_dict_row_give_the_same_cases():
    row = dict.fromkeys(PERSONAS, 200) | {"bam_b": 404}

    from_tuple = persona_cases({"list": tuple(row.values())})
    from_dict = persona_cases({"list": row})

    assert [c.values for c in from_tuple] == [c.values for c in from_dict]
    assert from_dict[-1].values == ("list", "bam_b", 404)


@pytest.mark.parametrize(
    "row",
    [(200,) * 6, (200,) * 8, dict.fromkeys(PERSONAS[:-1], 200)],
    ids=["short", "long", "dict-missing-one"],
)
def test_a_row_that_does_not_name_every_persona_is_refused(row):
    with pytest.raises(ValueError):
        by_persona(row)


def test_a_known_bug_is_a_strict_xfail_expecting_the_intended_status():
    [case] = [
        c
        for c in persona_cases(
            {"x": (*(200,) * 4, known_bug(200, reason="finance 403s"), 403, 404)}
        )
        if c.values[1] == "finance_a"
    ]

    [mark] = case.marks
    assert case.values == ("x", "finance_a", 200)
    assert (mark.name, mark.kwargs) == ("xfail", {"strict": True, "reason": "finance 403s"})
