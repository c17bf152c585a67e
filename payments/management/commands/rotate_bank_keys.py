"""manage.py rotate_bank_keys: re-encrypt every bank account number under the newest key.

Put the new Fernet key first in PAYMENTS_ENCRYPTION_KEYS (keep the old ones after it), run this,
then remove the old keys. Prints counts, never a number.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from payments import crypto
from payments.models import BankAccount


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored bank account number with the first PAYMENTS_ENCRYPTION_KEYS key."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        rotated = 0
        for pk, token in BankAccount.objects.values_list("pk", "account_number_encrypted"):
            try:
                new = crypto.rotate_token(token)
            except crypto.UnreadableToken:
                raise CommandError(
                    f"Bank account #{pk}: no configured key opens its number; nothing was changed."
                ) from None
            BankAccount.objects.filter(pk=pk).update(account_number_encrypted=new)
            rotated += 1
        self.stdout.write(f"{rotated} bank account number(s) re-encrypted with the newest key.")
