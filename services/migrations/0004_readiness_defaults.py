"""Seed the default readiness questionnaire and the three role courses (admins edit them later).

The wording is copied here, not imported: a migration must keep meaning what it meant when written.
"""

from django.db import migrations

QUESTIONS = [
    # key, English text, weight, derived_from
    (
        "records_kept",
        "Are import records kept for six years and on file for the last year?",
        2,
        "records_kept",
    ),
    (
        "release_documentation",
        "Is release documentation (invoices, B3/CAD support, permits) kept for each shipment?",
        2,
        "",
    ),
    (
        "security_posted",
        "Is financial security posted and sufficient for every RM account?",
        3,
        "security_posted",
    ),
    (
        "delegations_current",
        "Are the broker's delegations current in the CARM Client Portal?",
        3,
        "delegations_current",
    ),
    (
        "people_trained",
        "Has at least one person been trained on CARM in the last year?",
        1,
        "people_trained",
    ),
    ("soa_reconciled", "Is the Statement of Account reconciled every month?", 2, "soa_reconciled"),
    ("bam_named", "Is a Business Account Manager (BAM) named?", 2, "bam_named"),
    ("payment_method", "Is a payment method set up for CBSA payments?", 2, "payment_method"),
]

COURSES = [
    ("CARM for finance teams: Statements of Account, payments and security", "finance"),
    ("CARM for operations: releases, accounting and the CARM Client Portal", "operations"),
    ("CARM compliance: records, corrections and delegations", "compliance"),
]


def seed(apps, schema_editor):
    Question = apps.get_model("services", "ReadinessQuestion")
    Course = apps.get_model("services", "Course")
    for position, (key, text, weight, derived) in enumerate(QUESTIONS, start=1):
        Question.objects.get_or_create(
            key=key,
            defaults={
                "text": text,
                "weight": weight,
                "derived_from": derived,
                "position": position * 10,
            },
        )
    for name, role in COURSES:
        Course.objects.get_or_create(name=name, role=role, defaults={"refresh_months": 12})


def unseed(apps, schema_editor):
    apps.get_model("services", "ReadinessQuestion").objects.filter(
        key__in=[q[0] for q in QUESTIONS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("services", "0003_readiness_and_training")]

    operations = [migrations.RunPython(seed, unseed)]
