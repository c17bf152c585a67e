"""Training refresher alerts already recorded name their course with both of its names.

They were written with the course's English name as plain text, so a French reader saw it in
English inside a French sentence; the daily check never rewrites an alert's parts (a lapsed
training's alert stays open until a refresher is recorded, and a resolved one reopens as it was).
The English name stays as written; the French one is the course's, read from the alert's key
(``training:<membership>:<course>:<lapse date>``). The shape is ``stored_text.bilingual``'s,
written out so this migration does not change with that module.
"""

from django.db import migrations


def _training_alerts(apps):
    ComplianceAlert = apps.get_model("services", "ComplianceAlert")
    return ComplianceAlert.objects.filter(kind="training_refresh").exclude(message_parts=None)


def _save(alerts, changed):
    alerts.model.objects.bulk_update(changed, ["message_parts"], batch_size=1000)


def name_both(apps, schema_editor):
    Course = apps.get_model("services", "Course")
    french = dict(Course.objects.exclude(name_fr="").values_list("pk", "name_fr"))
    alerts = _training_alerts(apps)
    changed = []
    for alert in alerts.iterator():
        args = alert.message_parts.get("a") or {}
        english = args.get("course")
        if not isinstance(english, str):  # already both names
            continue
        args["course"] = {"en": english}
        if name_fr := french.get(int(alert.key.split(":")[2])):
            args["course"]["fr"] = name_fr
        changed.append(alert)
    _save(alerts, changed)


def name_english(apps, schema_editor):
    alerts = _training_alerts(apps)
    changed = []
    for alert in alerts.iterator():
        args = alert.message_parts.get("a") or {}
        if isinstance(args.get("course"), dict):
            args["course"] = args["course"]["en"]
            changed.append(alert)
    _save(alerts, changed)


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0011_course_name_fr"),
    ]

    operations = [migrations.RunPython(name_both, name_english)]
