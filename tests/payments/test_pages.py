"""Payment pages: every persona on every page, the record-a-payment flow, constant queries."""

import datetime as dt

import pytest

from clients.models import OnboardingStep
from payments.checks import run_payment_checks, run_security_checks
from payments.models import FinancialSecurity, InterestRate, Payment, SecurityReview
from payments.records import record_payment
from tests.factories import (
    FinancialSecurityFactory,
    ImporterFactory,
    PaymentFactory,
    ProgramAccountFactory,
)
from tests.kit import PERSONAS
from tests.payments.conftest import D, make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(personas):
    return personas.importer_a.program_accounts.get()


@pytest.fixture
def world(personas, account):
    """Importer A: a statement, a payment, a bond; the daily checks run."""
    statement = make_statement(account, dt.date(2026, 10, 25), "812.40")
    payment, _plan = record_payment(
        importer=personas.importer_a,
        program_account=account,
        amount=D("300.00"),
        method="online_banking",
        paid_on=dt.date(2026, 11, 2),
        by=None,
    )
    security = FinancialSecurityFactory(program_account=account)
    run_payment_checks(today=dt.date(2026, 11, 23))
    run_security_checks(today=dt.date(2026, 11, 23))
    return {"statement": statement, "payment": payment, "security": security}


LIST = dict.fromkeys(PERSONAS, 200) | {"employee_a": 403}
VIEW = dict.fromkeys(PERSONAS, 200) | {"employee_a": 403, "bam_b": 404}
MANAGE = VIEW | {"broker_agent": 403}
MANAGE_POST = {k: 302 if v == 200 else v for k, v in MANAGE.items()}
BROKER = {p: 200 if p.startswith("broker") else 403 for p in PERSONAS}
RATES_POST = dict.fromkeys(PERSONAS, 403) | {"broker_admin": 302}


def _cases():
    for persona in PERSONAS:
        yield "get", "/payments/", persona, LIST[persona]
        yield "get", "/payments/{p}/", persona, VIEW[persona]
        yield "get", "/payments/new/{i}/", persona, MANAGE[persona]
        yield "post", "/payments/{p}/status/", persona, MANAGE_POST[persona]
        yield "post", "/payments/{p}/allocate/", persona, MANAGE_POST[persona]
        yield "get", "/payments/security/", persona, LIST[persona]
        yield "get", "/payments/security/{s}/", persona, VIEW[persona]
        yield "get", "/payments/security/{s}/edit/", persona, MANAGE[persona]
        yield "get", "/payments/security/new/{i}/", persona, MANAGE[persona]
        yield "get", "/payments/worklist/", persona, BROKER[persona]
        yield "get", "/payments/worklist/?list=overdue", persona, BROKER[persona]
        yield "get", "/payments/worklist/?list=security", persona, BROKER[persona]
        yield "get", "/payments/rates/", persona, BROKER[persona]
        yield "post", "/payments/rates/", persona, RATES_POST[persona]


@pytest.mark.parametrize(("method", "url", "persona", "expected"), list(_cases()))
def test_access(personas, client_for, world, method, url, persona, expected):
    client = client_for(personas.all()[persona])
    path = url.format(p=world["payment"].pk, i=personas.importer_a.pk, s=world["security"].pk)
    data = {
        "status": "cleared",
        "allocation": "auto",
        "effective_from": "2026-10-01",
        "annual_rate": "8.000",
    }
    response = client.get(path) if method == "get" else client.post(path, data)
    assert response.status_code == expected


@pytest.mark.parametrize(
    "url",
    [
        "/payments/",
        "/payments/1/",
        "/payments/new/1/",
        "/payments/security/",
        "/payments/worklist/",
    ],
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_lists_hold_only_the_users_importers(personas, client_for, world):
    other = PaymentFactory(program_account=personas.importer_b.program_accounts.get())

    mine = client_for(personas.bam_b).get("/payments/").context["payments"]
    assert [p.pk for p in mine] == [other.pk]
    everyone = client_for(personas.broker_finance).get("/payments/").context["payments"]
    assert {p.pk for p in everyone} == {other.pk, world["payment"].pk}


def test_the_payment_list_filters(personas, client_for, world, account):
    card = PaymentFactory(program_account=account, method="credit_card", amount=D("10.00"))
    client = client_for(personas.broker_finance)

    def ids(query):
        return [p.pk for p in client.get(f"/payments/?{query}").context["payments"]]

    assert ids("method=credit_card") == [card.pk]
    assert ids("unapplied=on") == [card.pk]  # recorded without being applied
    assert ids(f"importer={personas.importer_b.pk}") == []
    assert ids("q=Alpha") == [card.pk, world["payment"].pk]


def test_the_payment_list_runs_in_constant_queries(
    personas, client_for, django_assert_max_num_queries
):
    client = client_for(personas.broker_finance)
    first = PaymentFactory(program_account=personas.importer_a.program_accounts.get())
    with django_assert_max_num_queries(12) as one:
        response = client.get("/payments/")
    assert response.status_code == 200
    assert [p.pk for p in response.context["payments"]] == [first.pk]
    for _ in range(15):
        account = ProgramAccountFactory(importer=ImporterFactory())
        PaymentFactory(program_account=account, method="pad")
    with django_assert_max_num_queries(12) as many:
        response = client.get("/payments/")
    assert response.status_code == 200
    assert len(response.context["payments"]) == 16
    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_security_list_runs_in_constant_queries(
    personas, client_for, django_assert_max_num_queries
):
    client = client_for(personas.broker_finance)
    first = FinancialSecurityFactory(program_account=personas.importer_a.program_accounts.get())
    with django_assert_max_num_queries(14) as one:
        response = client.get("/payments/security/")
    assert response.status_code == 200
    assert [s.pk for s in response.context["securities"]] == [first.pk]
    for _ in range(15):
        account = ProgramAccountFactory(importer=ImporterFactory())
        make_statement(account, dt.date(2026, 9, 25), "20000.00")
        FinancialSecurityFactory(program_account=account, kind="cash_deposit", surety_company="")
    with django_assert_max_num_queries(14) as many:
        response = client.get("/payments/security/")
    assert response.status_code == 200
    assert len(response.context["securities"]) == 16
    assert len(many.captured_queries) == len(one.captured_queries)
    cash = [s for s in response.context["securities"] if s.kind == "cash_deposit"]
    assert {(s.required, s.account_state) for s in cash} == {(D("20000.00"), "insufficient")}


@pytest.mark.parametrize("tab", ["due", "overdue", "security"])
def test_the_worklists_run_in_constant_queries(
    personas, client_for, django_assert_max_num_queries, tab
):
    client = client_for(personas.broker_agent)

    def add(n):
        for _ in range(n):
            importer = ImporterFactory(status="active")
            account = ProgramAccountFactory(importer=importer)
            make_statement(account, dt.date(2026, 10, 25), "100.00")  # overdue
            make_statement(account, dt.date(2026, 11, 25), "50.00", due_date=dt.date(2026, 11, 26))
        run_payment_checks(today=dt.date(2026, 11, 23))
        run_security_checks(today=dt.date(2026, 11, 23))

    add(1)
    # 13: the page's 12 and the agent's two-factor authenticator (carm_portal.mfa).
    with django_assert_max_num_queries(13) as one:
        response = client.get(f"/payments/worklist/?list={tab}")
    assert response.status_code == 200
    assert len(response.context["items"]) == 1
    add(12)
    with django_assert_max_num_queries(13) as many:
        response = client.get(f"/payments/worklist/?list={tab}")
    assert response.status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)
    assert len(response.context["items"]) == 13


def test_the_overdue_worklist_lists_the_oldest_due_then_the_largest(personas, client_for):
    """Oldest due date first and, on one due date, the largest amount first (the rows are made
    in another order); the tab's count is the list's length (the paginator is told it, not asked
    again)."""
    amounts = ["10.00", "990.00", "450.50", "75.25"]
    expected = []
    for month, due in ((10, dt.date(2026, 10, 26)), (9, dt.date(2026, 9, 28))):
        for i in range(6):
            account = ProgramAccountFactory(importer=ImporterFactory(status="active"))
            amount = D(amounts[i % 4]) + i
            make_statement(account, dt.date(2026, month, 25), str(amount), due_date=due)
            expected.append((due, amount))
    run_payment_checks(today=dt.date(2026, 11, 23))
    expected.sort(key=lambda row: (row[0], -row[1]))

    response = client_for(personas.broker_finance).get("/payments/worklist/?list=overdue")

    assert response.status_code == 200
    assert [(b.due_date, b.outstanding) for b in response.context["items"]] == expected
    tabs = {key: n for key, _label, n in response.context["tabs"]}
    assert tabs["overdue"] == response.context["page"].paginator.count == 12


def test_the_overdue_worklist_estimates_interest(personas, client_for, world):
    InterestRate.objects.create(effective_from=dt.date(2026, 1, 1), annual_rate=D("9.000"))

    items = (
        client_for(personas.broker_finance).get("/payments/worklist/?list=overdue").context["items"]
    )

    (balance,) = items
    assert (balance.outstanding, balance.days_overdue) == (D("512.40"), 24)
    # 300.00 paid 3 days late and 512.40 unpaid for 24 days, at 9 %:
    # (300 x 3 + 512.40 x 24) x 9 / 36,500 = 3.2541... -> 3.25, plus the $200 penalty
    assert (balance.estimate.interest, balance.estimate.total) == (D("3.25"), D("203.25"))


# --- Recording a payment -------------------------------------------------------------------------


def form_data(account, **overrides):
    data = {
        "program_account": account.pk,
        "amount": "1000.00",
        "method": "online_banking",
        "paid_on": "2026-11-20",
        "reference": "CONF-1",
        "status": "pending",
        "allocation": "auto",
        "action": "preview",
    }
    data.update(overrides)
    return data


def test_the_preview_shows_the_plan_and_warns_about_short_paying(personas, client_for, account):
    older = make_statement(account, dt.date(2026, 9, 25), "400.00")
    newer = make_statement(account, dt.date(2026, 10, 25), "900.00")
    url = f"/payments/new/{personas.importer_a.pk}/"

    response = client_for(personas.bam_a).post(url, form_data(account))

    assert response.status_code == 200
    assert Payment.objects.count() == 0
    rows = [
        (r["statement"].statement_id, r["amount"], r["left"]) for r in response.context["plan_rows"]
    ]
    assert rows == [(older.pk, D("400.00"), D("0.00")), (newer.pk, D("600.00"), D("300.00"))]
    page = response.content.decode()
    assert "This is a partial payment." in page
    assert 'Short-paying a statement to "correct" it earns interest and penalties' in page


def test_recording_applies_by_cbsas_rule(personas, client_for, account):
    older = make_statement(account, dt.date(2026, 9, 25), "400.00")
    url = f"/payments/new/{personas.importer_a.pk}/"

    response = client_for(personas.broker_finance).post(url, form_data(account, action="record"))

    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == payment.get_absolute_url()
    assert [(a.statement_id, a.amount) for a in payment.allocations.all()] == [
        (older.pk, D("400.00"))
    ]
    assert payment.recorded_by == personas.broker_finance
    assert payment.history.first().history_user == personas.broker_finance


def test_recording_by_hand(personas, client_for, account):
    make_statement(account, dt.date(2026, 9, 25), "400.00")
    newer = make_statement(account, dt.date(2026, 10, 25), "900.00")
    url = f"/payments/new/{personas.importer_a.pk}/"

    client_for(personas.bam_a).post(
        url,
        form_data(account, action="record", allocation="manual", **{f"alloc_{newer.pk}": "900.00"}),
    )

    payment = Payment.objects.get()
    assert [(a.statement_id, a.amount, a.manual) for a in payment.allocations.all()] == [
        (newer.pk, D("900.00"), True)
    ]


def test_a_credit_card_over_the_cycle_limit_is_refused_with_the_reason(
    personas, client_for, account
):
    PaymentFactory(
        program_account=account,
        method="credit_card",
        amount=D("3000.00"),
        paid_on=dt.date(2026, 11, 19),
    )
    url = f"/payments/new/{personas.importer_a.pk}/"

    response = client_for(personas.bam_a).post(
        url, form_data(account, method="credit_card", amount="2000.00", action="record")
    )

    assert Payment.objects.count() == 1
    assert response.context["form"].errors["amount"] == [
        f"CBSA accepts at most $4,999.99 by credit card per billing cycle per program account. "
        f"$3,000.00 was already paid by card on {account.bn15} in the cycle 2026-11-18 – "
        f"2026-12-17, so at most $1,999.99 more can be: pay the rest another way (online banking, "
        f"pre-authorized debit)."
    ]


def test_a_broker_paid_payment_must_be_allocated_by_hand(personas, client_for, account):
    make_statement(account, dt.date(2026, 10, 25), "900.00")
    url = f"/payments/new/{personas.importer_a.pk}/"

    response = client_for(personas.broker_finance).post(url, form_data(account, method="broker"))

    assert response.context["form"].errors["allocation"] == [
        "A payment the broker made on the importer's behalf goes to the statements it was made "
        "for: allocate it by hand."
    ]


def test_a_future_date_is_refused(personas, client_for, account):
    url = f"/payments/new/{personas.importer_a.pk}/"

    response = client_for(personas.bam_a).post(url, form_data(account, paid_on="2026-11-24"))

    assert response.context["form"].errors["paid_on"] == [
        "A payment cannot be dated in the future: record it once it is made."
    ]


def test_allocating_again_from_the_payment_page(personas, client_for, world, account):
    newer = make_statement(account, dt.date(2026, 11, 25), "50.00")
    payment = world["payment"]

    response = client_for(personas.bam_a).post(
        f"/payments/{payment.pk}/allocate/", {"allocation": "manual", f"alloc_{newer.pk}": "50.00"}
    )

    assert response.status_code == 302
    assert [(a.statement_id, a.amount) for a in payment.allocations.all()] == [
        (newer.pk, D("50.00"))
    ]


def test_marking_a_payment_returned(personas, client_for, world):
    payment = world["payment"]

    client_for(personas.broker_finance).post(
        f"/payments/{payment.pk}/status/", {"status": "returned", "returned_on": "2026-11-20"}
    )

    payment.refresh_from_db()
    assert (payment.status, payment.returned_on) == ("returned", dt.date(2026, 11, 20))
    page = client_for(personas.broker_finance).get(payment.get_absolute_url())
    assert "A returned payment pays nothing" in page.content.decode()
    assert "allocation_form" not in page.context


# --- Securities ----------------------------------------------------------------------------------


def security_data(account, **overrides):
    data = {
        "program_account": account.pk,
        "kind": "surety_bond",
        "surety_company": "Trisura Guarantee Insurance Company",
        "bond_number": "tb-4471",
        "amount": "5000.00",
        "effective_date": "2026-11-02",
        "expiry_date": "2027-11-01",
        "status": "active",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_recording_a_bond_completes_checklist_step_1(personas, client_for, account):
    response = client_for(personas.broker_finance).post(
        f"/payments/security/new/{personas.importer_a.pk}/", security_data(account)
    )

    security = FinancialSecurity.objects.get()
    step = personas.importer_a.onboarding_steps.get(step=OnboardingStep.Step.FINANCIAL_SECURITY)
    assert response.status_code == 302
    assert security.bond_number == "TB-4471"
    assert (step.status, step.derived) == (OnboardingStep.Status.DONE, True)
    assert step.summary == (
        "Surety bond TB-4471 of $5,000.00 with Trisura Guarantee Insurance Company, in force "
        "until 2027-11-01."
    )


def test_a_security_form_names_each_problem(personas, client_for, account):
    response = client_for(personas.broker_finance).post(
        f"/payments/security/new/{personas.importer_a.pk}/",
        security_data(
            account, surety_company="", bond_number="", effective_date="", expiry_date="2026-01-01"
        ),
    )

    errors = response.context["form"].errors
    assert errors["surety_company"] == ["Name the surety company that issued the bond."]
    assert errors["bond_number"] == ["Enter the bond number of a bond in force."]
    assert errors["effective_date"] == ["Enter the date the security took effect."]


def test_a_cash_deposit_keeps_no_surety(personas, client_for, account):
    client_for(personas.bam_a).post(
        f"/payments/security/new/{personas.importer_a.pk}/",
        security_data(account, kind="cash_deposit", expiry_date=""),
    )

    security = FinancialSecurity.objects.get()
    assert (security.surety_company, security.bond_number) == ("", "")


def test_the_security_page_shows_requirement_chart_and_history(
    personas, client_for, world, account
):
    make_statement(account, dt.date(2026, 9, 25), "16000.00")
    SecurityReview.objects.filter(program_account=account).delete()  # never reviewed

    response = client_for(personas.broker_agent).get(world["security"].get_absolute_url())

    position = response.context["position"]
    assert (position.required_bond, position.required_cash, position.state) == (
        D("8000.00"),
        D("16000.00"),
        "insufficient",
    )
    page = response.content.decode()
    assert '<svg viewBox="0 0 640 220" role="img"' in page
    assert "Top-up needed" in page


def test_only_a_broker_admin_adds_rates(personas, client_for):
    admin = client_for(personas.broker_admin)

    created = admin.post(
        "/payments/rates/", {"effective_from": "2026-10-01", "annual_rate": "8.000"}
    )
    refused = admin.post("/payments/rates/", {"effective_from": "2026-10-01", "annual_rate": "120"})

    assert created.status_code == 302
    assert InterestRate.objects.get().entered_by == personas.broker_admin
    assert refused.status_code == 400
    assert "annual_rate" in refused.context["form"].errors


def test_an_invisible_importer_is_not_named_by_the_list_filter(personas, client_for, world):
    response = client_for(personas.bam_b).get(f"/payments/?importer={personas.importer_a.pk}")

    assert response.status_code == 200
    assert response.context["payments"] == []
    assert "Alpha Imports" not in response.content.decode()


def test_the_due_worklist_uses_the_due_soon_setting(personas, client_for, account, settings):
    """It hard-coded 7 days beside STATEMENTS_DUE_SOON_DAYS; it now reads the setting, like the
    statements list's "due soon" (today is 2026-11-23)."""
    settings.STATEMENTS_DUE_SOON_DAYS = 10
    in_nine_days = make_statement(
        account, dt.date(2026, 11, 25), "50.00", due_date=dt.date(2026, 12, 2)
    )
    make_statement(account, dt.date(2026, 12, 25), "60.00", due_date=dt.date(2026, 12, 4))
    run_payment_checks(today=dt.date(2026, 11, 23))

    response = client_for(personas.broker_finance).get("/payments/worklist/?list=due")

    assert response.status_code == 200
    assert [b.statement for b in response.context["items"]] == [in_nine_days]
