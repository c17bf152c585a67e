"""Bank account numbers encrypted at rest with Fernet (the ``cryptography`` package).

The keys come from ``settings.PAYMENTS_ENCRYPTION_KEYS`` (the environment in production; settings
refuse to start without them there). With several keys the first encrypts and all decrypt
(``MultiFernet``), so a key is rotated by adding the new one first and re-encrypting with
``rotate_tokens`` (``manage.py rotate_bank_keys``).

Nothing here decides who may read a number: ``payments.reveals.reveal`` does, and records it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cryptography.fernet import MultiFernet

from carm_portal import keyring
from carm_portal.keyring import UnreadableToken as UnreadableToken  # callers catch it here

if TYPE_CHECKING:
    from payments.models import BankAccount

ACCOUNT_NUMBER = re.compile(r"^\d{5,12}$")


SETTING = "PAYMENTS_ENCRYPTION_KEYS"


def fernet() -> MultiFernet:
    return keyring.fernet(SETTING)


def normalize_account_number(value: str) -> str:
    """Digits only (spaces and dashes removed); 5 to 12 digits, as Canadian banks use."""
    digits = re.sub(r"[\s\-]", "", value or "")
    if not ACCOUNT_NUMBER.match(digits):
        raise ValueError("An account number is 5 to 12 digits.")
    return digits


def encrypt(plain: str) -> str:
    return keyring.encrypt(SETTING, plain)


def decrypt(token: str) -> str:
    return keyring.decrypt(SETTING, token)


def rotate_token(token: str) -> str:
    """The same number under the first (newest) key."""
    return keyring.rotate(SETTING, token)


def reveal_account_number(bank_account: BankAccount) -> str:
    """The full account number of a ``BankAccount``. Call ``payments.reveals.reveal`` instead: it
    checks ``Perm.VIEW_BANK_ACCOUNT`` and audits; it is the only caller (a test greps for it)."""
    return decrypt(bank_account.account_number_encrypted)


def set_account_number(bank_account: BankAccount, plain: str) -> None:
    """Store ``plain`` (normalised) encrypted on the ``BankAccount``, with its last digits."""
    digits = normalize_account_number(plain)
    bank_account.account_number_encrypted = encrypt(digits)
    bank_account.account_last_digits = digits[-4:]
