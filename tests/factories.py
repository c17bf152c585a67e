"""factory-boy factories for every model the tests need; valid identifiers by construction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from stdnum import luhn

from carm_portal.mfa import seal
from carm_portal.models import User
from clients import access
from clients.models import ClientGroup, Importer, Membership, PortalUser, ProgramAccount

DEFAULT_PASSWORD = "correct-horse-battery-staple"
# The authenticator-app secret of every user the factory gives two-factor authentication
# (``tests.mfa.totp_code`` computes its codes).
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def bn9_for(n: int) -> str:
    """A valid 9-digit Business Number built from ``n`` (8 digits + the Luhn check digit)."""
    body = f"{(10_000_000 + n * 7919) % 100_000_000:08d}"
    return body + luhn.calc_check_digit(body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        """``UserFactory(roles=["broker agent"])`` puts the user in those broker groups."""
        if create and extracted:
            self.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in extracted])
        if create:
            self.save()

    @factory.post_generation
    def mfa(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Two-factor authentication (an authenticator app, ``TEST_TOTP_SECRET``): broker staff and
        admin-site users get it, since without it every page sends them to set it up
        (``carm_portal.mfa``); ``mfa=False`` leaves it out, ``mfa=True`` gives it to anyone."""
        if not create:
            return
        wanted = (
            extracted
            if extracted is not None
            else (self.is_staff or access.is_broker_account(self))
        )
        if wanted:
            Authenticator.objects.get_or_create(
                user=self,
                type=Authenticator.Type.TOTP,
                defaults={"data": {"secret": seal(TEST_TOTP_SECRET)}},
            )


class ClientGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientGroup

    name = factory.Sequence(lambda n: f"Client group {n}")


class ImporterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Importer

    legal_name = factory.Sequence(lambda n: f"Importer {n:04d} Ltd.")
    bn9 = factory.Sequence(bn9_for)
    status = Importer.Status.ONBOARDING
    address_line1 = factory.Sequence(lambda n: f"{100 + n} King Street West")
    city = "Toronto"
    province = "ON"
    postal_code = "M5H 1A1"


class ProgramAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramAccount

    importer = factory.SubFactory(ImporterFactory)
    bn15 = factory.LazyAttributeSequence(lambda o, n: f"{o.importer.bn9}RM{(n % 9999) + 1:04d}")
    name = "Head office"


class PortalUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortalUser

    importer = factory.SubFactory(ImporterFactory)
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@importer.example.com")
    ccp_role = PortalUser.CcpRole.BAM
    sign_in_method = PortalUser.SignInMethod.GCKEY
    profile_created = True
    access_approved = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    importer = factory.SubFactory(ImporterFactory)
    role = Membership.Role.BAM


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "delegation.Delegation"

    importer = factory.SubFactory(ImporterFactory)
    relationship = "BMR"
    authority = "pBAM"
    status = "active"
    requested_on = factory.LazyFunction(lambda: dt.date(2026, 1, 5))
    approved_on = factory.LazyFunction(lambda: dt.date(2026, 1, 8))
    expiry_date = factory.LazyFunction(lambda: dt.date(2027, 12, 31))


# --- Statements ---------------------------------------------------------------------------------


def _period(day: dt.date):
    from statements.billing import statement_period

    return statement_period(day)


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "statements.ImportBatch"

    kind = "statement"
    file_name = factory.Sequence(lambda n: f"statement-{n}.csv")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size = 1000
    status = "accepted"


class StatementFactory(factory.django.DjangoModelFactory):
    """A statement issued on the 25th, its period and due date from the billing calendar."""

    class Meta:
        model = "statements.Statement"

    program_account = factory.SubFactory(ProgramAccountFactory)
    statement_date = factory.LazyFunction(lambda: dt.date(2026, 10, 25))
    period_start = factory.LazyAttribute(lambda o: _period(o.statement_date).start)
    period_end = factory.LazyAttribute(lambda o: _period(o.statement_date).end)
    due_date = factory.LazyAttribute(lambda o: _period(o.statement_date).due_date)
    opening_balance = 0
    closing_balance = 0
    source_batch = factory.SubFactory(ImportBatchFactory)


class StatementLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "statements.StatementLine"

    statement = factory.SubFactory(StatementFactory)
    position = factory.Sequence(lambda n: n + 2)
    line_type = "CAD"
    transaction_number = factory.Sequence(lambda n: f"12345{n:09d}")
    posted_on = factory.LazyAttribute(lambda o: o.statement.period_start)
    amount = 0


class BrokerEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "statements.BrokerEntry"

    program_account = factory.SubFactory(ProgramAccountFactory)
    transaction_number = factory.Sequence(lambda n: f"12345{n:09d}")
    version = 1
    release_date = factory.LazyFunction(lambda: dt.date(2026, 10, 1))
    accounted_on = factory.LazyFunction(lambda: dt.date(2026, 10, 2))
    amount = 0
    source_batch = factory.SubFactory(ImportBatchFactory, kind="entries")


# --- Payments -----------------------------------------------------------------------------------


class PaymentFactory(factory.django.DjangoModelFactory):
    """A recorded payment (not yet applied: call ``allocate_payment`` or use ``record_payment``)."""

    class Meta:
        model = "payments.Payment"

    program_account = factory.SubFactory(ProgramAccountFactory)
    importer = factory.LazyAttribute(lambda o: o.program_account.importer)
    amount = 1000
    method = "online_banking"
    paid_on = factory.LazyFunction(lambda: dt.date(2026, 11, 2))
    status = "pending"


class FinancialSecurityFactory(factory.django.DjangoModelFactory):
    """A surety bond in force."""

    class Meta:
        model = "payments.FinancialSecurity"

    program_account = factory.SubFactory(ProgramAccountFactory)
    kind = "surety_bond"
    surety_company = "Trisura Guarantee Insurance Company"
    bond_number = factory.Sequence(lambda n: f"TB-{n:06d}")
    amount = 5000
    effective_date = factory.LazyFunction(lambda: dt.date(2026, 1, 1))
    expiry_date = factory.LazyFunction(lambda: dt.date(2027, 12, 31))
    status = "active"


class InterestRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "payments.InterestRate"
        django_get_or_create = ("effective_from",)

    effective_from = factory.LazyFunction(lambda: dt.date(2026, 1, 1))
    annual_rate = 9


def _encrypted_number(number: str = "1234567") -> str:
    from payments.crypto import encrypt

    return encrypt(number)


class BankAccountFactory(factory.django.DjangoModelFactory):
    """A PAD account; its number (1234567) stored encrypted, as ``save_bank_account`` does."""

    class Meta:
        model = "payments.BankAccount"

    importer = factory.SubFactory(ImporterFactory)
    holder_name = factory.LazyAttribute(lambda o: o.importer.legal_name)
    institution_number = "003"
    transit_number = "00012"
    account_number_encrypted = factory.LazyFunction(_encrypted_number)
    account_last_digits = "4567"


# --- Reconciliation -----------------------------------------------------------------------------


class ReconciliationRunFactory(factory.django.DjangoModelFactory):
    """A finished, current run (its items made with ``ReconciliationItemFactory(run=...)``)."""

    class Meta:
        model = "statements.ReconciliationRun"

    statement = factory.SubFactory(StatementFactory)
    status = "succeeded"
    trigger = "page"
    is_current = True
    percent = 100
    started_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC))
    finished_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 2, 14, 1, tzinfo=dt.UTC))

    @factory.post_generation
    def stamp_statement(obj, create, extracted, **kwargs):
        """A current run stamps its statement with its start and end, as ``finish_runs`` does."""
        if create and obj.is_current:
            stamps = {"reconciled_at": obj.finished_at, "reconciled_from": obj.started_at}
            type(obj.statement).objects.filter(pk=obj.statement_id).update(**stamps)
            for name, value in stamps.items():
                setattr(obj.statement, name, value)
            from statements.reconciliation.pending import refresh_pending

            refresh_pending(type(obj.statement).objects.filter(pk=obj.statement_id))
            obj.statement.refresh_from_db(fields=["reconciliation_pending"])


class ReconciliationItemFactory(factory.django.DjangoModelFactory):
    """An ``amount_mismatch`` of 1.00 by default; statement and importer follow the run."""

    class Meta:
        model = "statements.ReconciliationItem"

    run = factory.SubFactory(ReconciliationRunFactory)
    statement = factory.LazyAttribute(lambda o: o.run.statement)
    importer = factory.LazyAttribute(lambda o: o.run.statement.program_account.importer)
    position = factory.Sequence(lambda n: n + 1)
    status = "amount_mismatch"
    flagged = False
    # as statements/reconciliation/rules.py: all but matches and the unflagged posted_by_cbsa lines
    is_exception = factory.LazyAttribute(
        lambda o: (
            o.status not in ("matched", "matched_within_tolerance")
            and (o.status != "posted_by_cbsa" or o.flagged)
        )
    )
    # as statements/reconciliation/outcome.py marks the exceptions of a replaced run
    superseded = factory.LazyAttribute(lambda o: o.is_exception and not o.run.is_current)
    key = factory.LazyAttribute(
        lambda o: f"txn:{o.transaction_number}" if o.transaction_number else f"line:{o.position}"
    )
    transaction_number = factory.Sequence(lambda n: f"12345{n:09d}")
    line_type = "CAD"
    statement_amount = factory.LazyFunction(lambda: Decimal("101.00"))
    entry_amount = factory.LazyFunction(lambda: Decimal("100.00"))
    difference = factory.LazyAttribute(
        lambda o: (o.statement_amount or Decimal(0)) - (o.entry_amount or Decimal(0))
    )
    first_seen_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 2, 14, 1, tzinfo=dt.UTC))
