"""Encrypt the authenticator-app secrets and recovery-code seeds stored before encryption at rest.

Idempotent: a value some key of ``MFA_ENCRYPTION_KEYS`` already opens is left as it is. Not
reversible on purpose: writing the secrets back in the clear is not a state to return to.
"""

from django.db import migrations


def encrypt_existing(apps, schema_editor):
    from carm_portal import mfa

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=["totp", "recovery_codes"]):
        data = mfa.reencrypt(authenticator.data, authenticator.type, mfa.seal_if_clear)
        if data != authenticator.data:
            authenticator.data = data
            authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("carm_portal", "0005_merge_api"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_existing, migrations.RunPython.noop)]
