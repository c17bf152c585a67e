"""manage.py rotate_mfa_keys: re-encrypt every authenticator secret under the newest key.

Put the new Fernet key first in MFA_ENCRYPTION_KEYS (keep the old ones after it), run this, then
remove the old keys. All or nothing; prints counts, never a secret.
"""

from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carm_portal import keyring, mfa


class Command(BaseCommand):
    help = "Re-encrypt every stored authenticator secret with the first MFA_ENCRYPTION_KEYS key."

    @transaction.atomic
    def handle(self, *args, **options):
        rotated = 0
        kinds = list(mfa.SECRET_FIELDS)
        for authenticator in Authenticator.objects.filter(type__in=kinds).select_for_update():
            try:
                data = mfa.reencrypt(authenticator.data, authenticator.type, mfa.rotate)
            except keyring.UnreadableToken:
                raise CommandError(
                    f"Authenticator #{authenticator.pk}: no key in MFA_ENCRYPTION_KEYS opens its "
                    "secret; nothing was changed."
                ) from None
            Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
            rotated += 1
        self.stdout.write(f"{rotated} authenticator(s) re-encrypted with the newest key.")
