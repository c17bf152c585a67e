"""Demo services and compliance work for ``seed_demo``: prospects, webinars, walk-throughs,
service requests, fees and charges, corrections, compliance documents, readiness checks and
notifications.

Everything goes through the functions the pages use (``record_interest``, ``register``, ``book``,
``record_session``, ``approve_bond``, ``open_correction``, ``file_document``, ``notify``'s
``record``…), so the demo obeys the same rules as real work: seats and the waitlist, the 24-hour
booking notice, one charge per source, the 90-day correction clock, the retention dates.

Idempotent: each row is found again by a natural key (an e-mail address, a title, a slot's time,
a transaction number, a file name, an event key) and only made when missing, so a second run on
the same day creates nothing. Dates are relative to today; a row made on an earlier day keeps its
dates (moving a booked slot or a webinar with registrations would rewrite history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from carm_portal import stored_text
from carm_portal.models import User
from carm_portal.notification_models import Kind
from carm_portal.notifications import record
from clients.models import Importer
from services import charges, requests_flow, walkthroughs, webinar_seats
from services.compliance.corrections import change_status, open_correction
from services.compliance.documents import file_document
from services.compliance.readiness import complete_gap, ensure_default_questions, take_check
from services.interest import confirm_interest, record_interest
from services.models import (
    BillableService,
    Charge,
    ComplianceDocument,
    Correction,
    Fee,
    HelpTopic,
    Prospect,
    ReadinessCheck,
    RequestStatus,
    Service,
    ServiceRequest,
    Stage,
    WalkthroughOutcome,
    WalkthroughSlot,
    WebinarSession,
)
from services.pipeline import convert_to_importer
from services.training_demo import seed_training

EASTERN = ZoneInfo("America/Toronto")
DOMAIN = "example.com"

FEES = {
    BillableService.SOA_RETRIEVAL: Decimal("45.00"),
    BillableService.WALKTHROUGH: Decimal("150.00"),
    BillableService.BOND_APPLICATION: Decimal("95.00"),
    BillableService.HELP: Decimal("35.00"),
}

# (name, company, e-mail local part, services, confirmed, stage, converted)
PROSPECTS = [
    ("Olivia Tremblay", "Maple Leaf Candles Inc.", "olivia", [Service.MANAGEMENT], False, Stage.NEW, False),
    ("Raj Patel", "Harbourfront Spices Ltd.", "raj", [Service.SOA_RETRIEVAL, Service.BOND], True, Stage.CONTACTED, False),
    ("Chloé Gagnon", "Boréal Outdoor Gear Inc.", "chloe", [Service.MANAGEMENT, Service.WALKTHROUGH], True, Stage.NEW, True),
]  # fmt: skip

# (title, days from today, capacity, language, registrants)
WEBINARS = [
    ("CARM for importers: the first 30 days", 6, 40, "en", 5),
    ("GCRA : les relevés de compte et les paiements", 13, 30, "fr", 3),
    ("Delegating your business to your broker", 9, 3, "en", 5),  # full, two on the waitlist
]
PAST_WEBINAR = ("Statements of Account, step by step", -12, 25, "en", 4)
PEOPLE = [
    ("Emma Wilson", "Northern Lights Apparel"),
    ("Lucas Roy", "Fromagerie du Lac"),
    ("Noah Singh", "Prairie Seed Co."),
    ("Sofia Rossi", "Bella Tile Imports"),
    ("Liam Murphy", "Atlantic Rope & Net"),
]


@dataclass
class ServicesDemo:
    created: int = 0

    def summary(self) -> str:
        return f"Services and compliance: {self.created} demo rows made."


def _at(today: dt.date, days: int, hour: int) -> dt.datetime:
    day = today + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=EASTERN)


def seed_services(
    *, importers: dict[str, Importer], staff: dict[str, User], today: dt.date
) -> ServicesDemo:
    """Seed the services and compliance pages; ``importers`` holds the demo logins' importers
    by key (``rideau``, ``bluenose``, ``bowriver``) and ``staff`` the broker team by key."""
    result = ServicesDemo()
    _fees(result)
    _prospects(result, staff)
    _webinars(result, importers, today)
    _walkthroughs(result, importers, staff, today)
    _requests(result, importers, staff, today)
    _compliance(result, importers, staff, today)
    result.created += seed_training(importers=importers, staff=staff, today=today)
    _readiness(result, importers, staff, today)
    _notifications(importers, staff)
    return result


def _fees(result: ServicesDemo) -> None:
    for service, amount in FEES.items():
        _fee, created = Fee.objects.get_or_create(service=service, defaults={"amount": amount})
        result.created += created


def _prospects(result: ServicesDemo, staff: dict[str, User]) -> None:
    for name, company, local, wanted, confirmed, stage, converted in PROSPECTS:
        email = f"{local}@{company.split()[0].lower()}.{DOMAIN}"
        if Prospect.objects.filter(email=email).exists():
            continue
        prospect = record_interest(
            name=name,
            company=company,
            email=email,
            services=wanted,
            message="We import about twice a month and want help getting set up in CARM.",
            language="fr" if local == "chloe" else "en",
        )
        result.created += 1
        if not confirmed:
            continue
        confirm_interest(prospect)
        prospect.stage = stage
        prospect.owner = staff["agent"]
        prospect.next_action_on = timezone.localdate() + dt.timedelta(days=3)
        prospect.save(update_fields=["stage", "owner", "next_action_on", "updated_at"])
        if converted:
            convert_to_importer(prospect=prospect, by=staff["admin"])


def _webinars(result: ServicesDemo, importers: dict[str, Importer], today: dt.date) -> None:
    for title, days, capacity, language, registrants in [*WEBINARS, PAST_WEBINAR]:
        if WebinarSession.objects.filter(title=title).exists():
            continue
        session = WebinarSession.objects.create(
            title=title,
            description="A one-hour live session with questions at the end.",
            starts_at=_at(today, days, 13),
            capacity=capacity,
            language=language,
            join_url="https://meet.example.com/carm-webinar",
        )
        result.created += 1
        # The past session's sign-ups were made before it started.
        signed_up = session.starts_at - dt.timedelta(days=10) if days < 0 else None
        for name, company in PEOPLE[:registrants]:
            local = name.split()[0].lower()
            webinar_seats.register(
                session=session,
                name=name,
                email=f"{local}@{company.split()[0].lower()}.{DOMAIN}",
                company=company,
                language=language,
                now=signed_up,
            )
        if days < 0:
            came = list(session.registrations.order_by("id").values_list("id", flat=True))[:3]
            webinar_seats.mark_attendance(session=session, attended_ids=set(came))


def _walkthroughs(
    result: ServicesDemo, importers: dict[str, Importer], staff: dict[str, User], today: dt.date
) -> None:
    agent = staff["agent"]
    if WalkthroughSlot.objects.filter(agent=agent).exists():
        return
    past, booked, *_open = walkthroughs.publish_slots(
        agent=agent,
        starts=[_at(today, days, hour) for days, hour in [(-5, 10), (4, 10), (4, 14), (5, 10), (8, 11)]],
        join_url="https://meet.example.com/walkthrough",
    )  # fmt: skip
    result.created += 5
    rideau, bluenose = importers["rideau"], importers["bluenose"]
    done = walkthroughs.book(
        slot=past,
        importer=rideau,
        by=_member(rideau),
        contact_email=_member(rideau).email,
        topics="Retrieve our latest Statement of Account in the CARM Client Portal.",
        now=past.starts_at - dt.timedelta(days=4),
    )
    walkthroughs.record_session(
        booking=done,
        notes="SOA retrieved",
        outcomes=[WalkthroughOutcome.SOA_RETRIEVED, WalkthroughOutcome.PORTAL_TOUR],
    )
    walkthroughs.book(
        slot=booked,
        importer=bluenose,
        by=_member(bluenose),
        contact_email=_member(bluenose).email,
        topics="Set up the second BAM's access and the delegation to our broker.",
    )
    result.created += 2


def _member(importer: Importer) -> User:
    """The importer's first demo login (its BAM)."""
    return User.objects.filter(memberships__importer=importer).order_by("id").first()  # type: ignore[return-value]


def _requests(
    result: ServicesDemo, importers: dict[str, Importer], staff: dict[str, User], today: dt.date
) -> None:
    rideau, bluenose, bowriver = importers["rideau"], importers["bluenose"], importers["bowriver"]
    if ServiceRequest.objects.filter(importer__in=[rideau, bluenose, bowriver]).exists():
        return
    agent, finance = staff["agent"], staff["finance"]
    account = rideau.program_accounts.order_by("bn15").first()
    assert account is not None
    month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    requests_flow.request_soa(
        importer=rideau, program_account=account, period=month, by=_member(rideau)
    )
    sent = requests_flow.request_soa(
        importer=rideau, program_account=account, period="2026-01", by=_member(rideau)
    )
    requests_flow.advance(request=sent, to=RequestStatus.SENT, by=agent)

    bond = requests_flow.request_bond(
        importer=rideau,
        program_account=account,
        by=_member(rideau),
        surety_company="Intact Insurance Company",
    )
    requests_flow.advance(request=bond, to=RequestStatus.SUBMITTED, by=finance)
    requests_flow.approve_bond(
        request=bond,
        by=finance,
        bond_number=f"DEMO-APP-{bond.pk:05d}",
        effective_date=today - dt.timedelta(days=2),
        expiry_date=today.replace(year=today.year + 1) - dt.timedelta(days=2),
    )
    bow_account = bowriver.program_accounts.order_by("bn15").first()
    assert bow_account is not None
    draft = requests_flow.request_bond(
        importer=bowriver, program_account=bow_account, by=_member(bowriver)
    )
    draft.surety_company = "Trisura Guarantee Insurance Company"
    draft.save(update_fields=["surety_company", "updated_at"])
    requests_flow.advance(request=draft, to=RequestStatus.SUBMITTED, by=finance)

    question = requests_flow.request_help(
        importer=bluenose,
        topic=HelpTopic.PORTAL,
        message="Our second BAM cannot see the business in the portal. What is missing?",
        by=_member(bluenose),
    )
    requests_flow.reply(
        request=question,
        author=agent,
        body="The payments BAM must approve their access first: Business Account > Users.",
    )
    requests_flow.advance(request=question, to=RequestStatus.CLOSED, by=agent)
    requests_flow.request_help(
        importer=rideau,
        topic=HelpTopic.DELEGATION,
        message="Can we delegate only the payments side to you?",
        by=_member(rideau),
    )
    result.created += 6

    # Fees: the walk-through is billed, the closed help waived, the bond applications to bill.
    walkthrough = Charge.objects.filter(booking__isnull=False, importer=rideau)
    charges.set_status(charges=walkthrough, status=Charge.Status.BILLED, by=finance)
    help_charge = Charge.objects.filter(request=question)
    charges.set_status(charges=help_charge, status=Charge.Status.WAIVED, by=finance)


def _compliance(
    result: ServicesDemo, importers: dict[str, Importer], staff: dict[str, User], today: dt.date
) -> None:
    rideau = importers["rideau"]
    if Correction.objects.filter(importer=rideau).exists():
        return
    agent = staff["agent"]
    account = rideau.program_accounts.order_by("bn15").first()
    assert account is not None
    # (transaction number, reason, days since the reason to believe, accounted days ago, filed)
    for number, reason, believed, accounted, filed in [
        ("11111260000017", Correction.Reason.CLASSIFICATION, 82, 140, False),  # 8 days left
        ("11111260000025", Correction.Reason.VALUE, 20, 60, False),
        ("11111260000033", Correction.Reason.ORIGIN, 45, 200, True),
    ]:
        correction = open_correction(
            importer=rideau,
            program_account=account,
            transaction_number=number,
            reason=reason,
            reason_to_believe_on=today - dt.timedelta(days=believed),
            accounted_on=today - dt.timedelta(days=accounted),
            amount_before=Decimal("1840.25"),
            amount_after=Decimal("2215.60"),
            note="Found while reconciling the statement.",
            by=agent,
            today=today,
        )
        if filed:
            change_status(correction, status=Correction.Status.FILED, by=agent, filed_version=2)
            file_document(
                importer=rideau,
                document_type="cad",
                name=f"B2-{number}.txt",
                data=f"Correction of CAD {number}, version 2, filed by the broker.\n".encode(),
                record_date=today - dt.timedelta(days=5),
                by=agent,
                transaction_number=number,
                correction=correction,
            )
        result.created += 1
    for name, kind, text, days in [
        ("invoice-2026-0412.csv", "commercial_invoice", "line,item,qty,value\n1,Chair,40,3120.00\n", 30),
        ("delegation-confirmation.txt", "delegation_confirmation", "Delegation to the broker approved in the CCP.\n", 90),
    ]:  # fmt: skip
        if not ComplianceDocument.objects.filter(importer=rideau, original_name=name).exists():
            file_document(
                importer=rideau,
                document_type=kind,
                name=name,
                data=text.encode(),
                record_date=today - dt.timedelta(days=days),
                by=agent,
            )
            result.created += 1


def _readiness(
    result: ServicesDemo, importers: dict[str, Importer], staff: dict[str, User], today: dt.date
) -> None:
    """Two checks for Rideau (a quarter apart, the first follow-up of the latest one done) and
    one for Bluenose, so the readiness pages, the chart and the PDF have something to show."""
    agent = staff["agent"]
    ensure_default_questions()
    for key, quarters in [("rideau", (1, 0)), ("bluenose", (0,))]:
        importer = importers[key]
        if ReadinessCheck.objects.filter(importer=importer).exists():
            continue
        for quarters_ago in quarters:
            day = today - dt.timedelta(days=91 * quarters_ago)
            check = take_check(
                importer, manual={"release_documentation": not quarters_ago}, by=agent, today=day
            )
            result.created += 1
            if quarters_ago:  # taken on that day, not now
                ReadinessCheck.objects.filter(pk=check.pk).update(taken_at=_at(day, 0, 10))
            elif key == "rideau" and (gap := check.gaps.order_by("id").first()) is not None:
                complete_gap(gap, by=agent)


def _notifications(importers: dict[str, Importer], staff: dict[str, User]) -> None:
    """A few inbox entries per persona. Recorded as already e-mailed: the demo addresses do not
    exist, and ``record`` keeps one row per person and event key, so a rerun adds nothing."""
    events: list[tuple[Kind, list[User], str, dict, str]] = [
        (
            Kind.WIZARD_FINISHED,
            [staff["agent"], staff["admin"]],
            "demo:wizard:bluenose",
            stored_text.gettext(
                "%(importer)s finished the onboarding wizard.",
                {"importer": str(importers["bluenose"])},
            ),
            importers["bluenose"].get_absolute_url(),
        ),
        (
            Kind.RECONCILIATION_EXCEPTIONS,
            [staff["finance"], staff["agent"]],
            "demo:reconciliation:rideau",
            stored_text.gettext(
                "The reconciliation of %(importer)s finished with exceptions.",
                {"importer": str(importers["rideau"])},
            ),
            reverse("statements:list"),
        ),
        (
            Kind.RENEWAL_REQUEST,
            [_member(importers["rideau"]), _member(importers["bowriver"])],
            "demo:renewal",
            stored_text.gettext(
                "Your broker asks you to renew its delegation in the CARM Client Portal."
            ),
            "/",
        ),
        (
            Kind.PAYMENT_ALERTS,
            [staff["finance"], _member(importers["rideau"])],
            "demo:payments",
            stored_text.gettext("A statement is due in five business days."),
            "/",
        ),
    ]
    for kind, people, key, text, url in events:
        record(
            kind=kind,
            recipient_ids=[p.pk for p in people],
            key=key,
            text=text,
            url=url,
            emailed_by_caller=True,
        )
