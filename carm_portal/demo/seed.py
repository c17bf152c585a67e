"""Demo data for development: a broker team and ~30 importers at every stage of CARM onboarding.

``seed_demo()`` is idempotent and deterministic. The whole data set is planned first, from fixed
lists and a fixed random seed, without looking at the database; it is then written with
"get, compare, save only what differs" keyed by stable identifiers (email, BN9, BN15), so a second
run creates nothing, saves nothing and adds no history rows.

Length: one plan and one writer for the whole demo world (broker team, importers at every stage,
their people and delegations); split by app, the stages would have to be described twice.

DEV ONLY: every demo login shares the published password ``DEMO_PASSWORD``, and the broker staff,
who must use two-factor authentication (``clients.access.must_have_mfa``), share the published
authenticator-app secret ``DEMO_TOTP_SECRET`` (``manage.py seed_demo --code`` prints its current
code). The management command refuses to run with ``DJANGO_ENV=production`` unless forced.
"""

from __future__ import annotations

import random
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import TextIO, TypeVar

from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.db import models, transaction
from stdnum import luhn

from carm_portal.calendar import cbsa_today
from carm_portal.keyring import UnreadableToken
from carm_portal.mfa import open_secret, seal
from carm_portal.models import User
from clients import onboarding
from clients.access import BrokerRole
from clients.models import (
    ClientGroup,
    Importer,
    Membership,
    OnboardingStep,
    PortalUser,
    ProgramAccount,
)
from clients.validators import normalize_phone, normalize_postal_code
from delegation.demo import seed_delegations
from delegation.models import Delegation, DelegationAlert
from payments.demo import seed_payments
from services.demo import seed_services
from statements.demo import seed_statements

DEMO_PASSWORD = "demo-carm-2026"  # noqa: S105  (DEV ONLY, printed by the command on purpose)
# DEV ONLY, printed by the command on purpose: the demo broker staff's authenticator-app secret.
DEMO_TOTP_SECRET = "CARMDEMOCARMDEMOCARMDEMOCARMDEMO"  # noqa: S105
DEMO_DOMAIN = "demo.carm-portal.local"
SEED = 2026

M = TypeVar("M", bound=models.Model)

Step = OnboardingStep.Step
StepStatus = OnboardingStep.Status
CcpRole = PortalUser.CcpRole
Responsibility = PortalUser.Responsibility


# --- What a run reports -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    importer: str


@dataclass
class DemoSummary:
    password: str
    totp_secret: str
    counts: dict[str, int]
    progress: dict[int, int]  # steps done -> number of demo importers
    blocked: int  # demo importers with at least one blocked step
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    confirmed: int = 0  # checklist steps confirmed (or blocked) by the admin in this run
    logins: list[DemoLogin] = field(default_factory=list)


# --- The broker team ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerPerson:
    key: str
    email: str
    full_name: str
    role: BrokerRole
    superuser: bool = False


BROKER_TEAM = [
    BrokerPerson("admin", f"admin@{DEMO_DOMAIN}", "Isabelle Roy", BrokerRole.ADMIN, superuser=True),
    BrokerPerson("agent", f"agent@{DEMO_DOMAIN}", "Marc Gauthier", BrokerRole.AGENT),
    BrokerPerson("agent2", f"agent2@{DEMO_DOMAIN}", "Aisha Khan", BrokerRole.AGENT),
    BrokerPerson("finance", f"finance@{DEMO_DOMAIN}", "Daniel Chen", BrokerRole.FINANCE),
]

# Client group -> the agents (BrokerPerson keys) who serve it.
CLIENT_GROUPS = {
    "Ontario": ["agent"],
    "Québec and Atlantic": ["agent2"],
    "Western Canada": ["agent", "agent2"],
}
GROUP_OF_PROVINCE = {
    "ON": "Ontario",
    "QC": "Québec and Atlantic",
    "NB": "Québec and Atlantic",
    "NS": "Québec and Atlantic",
    "NL": "Québec and Atlantic",
    "PE": "Québec and Atlantic",
    "MB": "Western Canada",
    "SK": "Western Canada",
    "AB": "Western Canada",
    "BC": "Western Canada",
}


# --- Places: city, province, a real-format postal code for that province, area code --------------

CITIES: dict[str, tuple[str, str, str, str]] = {
    "toronto": ("Toronto", "ON", "M5V 2T6", "416"),
    "mississauga": ("Mississauga", "ON", "L5B 3C2", "905"),
    "ottawa": ("Ottawa", "ON", "K1P 5G4", "613"),
    "hamilton": ("Hamilton", "ON", "L8P 4R5", "905"),
    "london": ("London", "ON", "N6A 3K7", "519"),
    "windsor": ("Windsor", "ON", "N9A 1J3", "519"),
    "sudbury": ("Sudbury", "ON", "P3E 1A3", "705"),
    "kitchener": ("Kitchener", "ON", "N2G 4G7", "519"),
    "brampton": ("Brampton", "ON", "L6T 4B8", "905"),
    "montreal": ("Montréal", "QC", "H3B 4W8", "514"),
    "quebec": ("Québec", "QC", "G1R 4P5", "418"),
    "laval": ("Laval", "QC", "H7T 2P5", "450"),
    "sherbrooke": ("Sherbrooke", "QC", "J1H 5G8", "819"),
    "gatineau": ("Gatineau", "QC", "J8X 3X7", "819"),
    "boucherville": ("Boucherville", "QC", "J4B 5E4", "450"),
    "vancouver": ("Vancouver", "BC", "V6B 1A1", "604"),
    "richmond": ("Richmond", "BC", "V6X 2B8", "604"),
    "delta": ("Delta", "BC", "V4G 1A1", "604"),
    "kelowna": ("Kelowna", "BC", "V1Y 6H2", "250"),
    "calgary": ("Calgary", "AB", "T2P 3H9", "403"),
    "edmonton": ("Edmonton", "AB", "T5J 2R7", "780"),
    "winnipeg": ("Winnipeg", "MB", "R3C 4T3", "204"),
    "saskatoon": ("Saskatoon", "SK", "S7K 1J5", "306"),
    "regina": ("Regina", "SK", "S4P 3Y2", "306"),
    "halifax": ("Halifax", "NS", "B3J 3K9", "902"),
    "dartmouth": ("Dartmouth", "NS", "B3B 1M5", "902"),
    "moncton": ("Moncton", "NB", "E1C 4M3", "506"),
    "saint_john": ("Saint John", "NB", "E2L 4L1", "506"),
    "st_johns": ("St. John's", "NL", "A1C 5M2", "709"),
    "charlottetown": ("Charlottetown", "PE", "C1A 4P3", "902"),
}


# --- Onboarding stages ----------------------------------------------------------------------------


class Stage(StrEnum):
    NOTHING = "nothing"  # 0/7: RM account closed, nobody recorded
    INFO = "info"  # 1/7: business information gathered (step 4)
    ONE_BAM_PENDING = "one_bam_pending"  # one BAM named, no CCP profile yet
    ONE_BAM_READY = "one_bam_ready"  # one BAM with a profile and access
    SECURITY_FIRST = "security_first"  # bond posted before the people were sorted out
    TWO_BAMS = "two_bams"  # two BAMs with profiles, some approvals outstanding
    PEOPLE_READY = "people_ready"  # steps 2, 3, 4, 6 done
    SECURITY_PENDING = "security_pending"  # people ready, bond application under way
    REGISTERED_NO_SECURITY = "registered_no_security"  # registered in the CCP, no security yet
    REGISTERED = "registered"  # 6/7: waiting for the BAM to approve the broker
    BLOCKED_SECURITY = "blocked_security"
    BLOCKED_DELEGATION = "blocked_delegation"
    DONE = "done"  # 7/7


@dataclass(frozen=True)
class PersonSlot:
    ccp_role: str
    responsibility: str
    profile_created: bool
    access_approved: bool


_READY_TEAM = [
    PersonSlot(CcpRole.BAM, Responsibility.PAYMENTS, True, True),
    PersonSlot(CcpRole.BAM, Responsibility.CUSTOMS, True, True),
    PersonSlot(CcpRole.EDITOR, Responsibility.CUSTOMS, True, True),
]

PEOPLE: dict[Stage, list[PersonSlot]] = {
    Stage.NOTHING: [],
    Stage.INFO: [],
    Stage.ONE_BAM_PENDING: [PersonSlot(CcpRole.BAM, Responsibility.BOTH, False, False)],
    Stage.ONE_BAM_READY: [PersonSlot(CcpRole.BAM, Responsibility.BOTH, True, True)],
    Stage.SECURITY_FIRST: [PersonSlot(CcpRole.BAM, Responsibility.PAYMENTS, True, True)],
    Stage.TWO_BAMS: [
        PersonSlot(CcpRole.BAM, Responsibility.PAYMENTS, True, True),
        PersonSlot(CcpRole.BAM, Responsibility.CUSTOMS, True, False),
        PersonSlot(CcpRole.EDITOR, Responsibility.CUSTOMS, False, False),
    ],
    Stage.PEOPLE_READY: _READY_TEAM,
    Stage.SECURITY_PENDING: _READY_TEAM,
    Stage.REGISTERED_NO_SECURITY: _READY_TEAM,
    Stage.REGISTERED: _READY_TEAM,
    Stage.BLOCKED_SECURITY: _READY_TEAM,
    Stage.BLOCKED_DELEGATION: _READY_TEAM,
    Stage.DONE: [*_READY_TEAM, PersonSlot(CcpRole.READER, Responsibility.NONE, True, True)],
}

REGISTERED_NOTE = "Business registered in the CCP by the payments BAM."
TRISURA = "Waiting on surety bond from Trisura."

# step -> (manual status, note); the completion date is planned per importer. Step 1 follows the
# demo securities (payments/demo.py) and step 7 the demo delegations (delegation/demo.py), as they
# follow real ones; a person may still block a derived step, as here while a surety is awaited.
MANUAL: dict[Stage, dict[int, tuple[str, str]]] = {
    Stage.REGISTERED_NO_SECURITY: {Step.REGISTRATION: (StepStatus.DONE, REGISTERED_NOTE)},
    Stage.REGISTERED: {Step.REGISTRATION: (StepStatus.DONE, REGISTERED_NOTE)},
    Stage.BLOCKED_SECURITY: {
        Step.FINANCIAL_SECURITY: (StepStatus.BLOCKED, TRISURA),
        Step.REGISTRATION: (StepStatus.DONE, REGISTERED_NOTE),
    },
    Stage.BLOCKED_DELEGATION: {Step.REGISTRATION: (StepStatus.DONE, REGISTERED_NOTE)},
    Stage.DONE: {Step.REGISTRATION: (StepStatus.DONE, REGISTERED_NOTE)},
}


# --- The importers ------------------------------------------------------------------------------

S = Importer.Status

# (legal name, operating name, city key, street address, stage, status, login key or "")
IMPORTERS: list[tuple[str, str, str, str, Stage, str, str]] = [
    ("Island Potato Packers Ltd.", "", "charlottetown", "45 Water Street", Stage.NOTHING, S.INACTIVE, ""),
    ("Queen City Hardware Ltd.", "", "regina", "1870 Albert Street", Stage.NOTHING, S.PROSPECT, ""),
    ("Signal Hill Medical Supplies Inc.", "Signal Hill Medical", "st_johns", "155 Water Street", Stage.INFO, S.PROSPECT, ""),
    ("Wheatland Grain Equipment Inc.", "Wheatland", "saskatoon", "310 2nd Avenue North", Stage.INFO, S.PROSPECT, ""),
    ("Textiles Laval Ltée", "Textiles Laval", "laval", "3030 boulevard Le Carrefour", Stage.INFO, S.ONBOARDING, ""),
    ("Nickel Belt Mining Supplies Ltd.", "Nickel Belt Supply", "sudbury", "200 Elm Street", Stage.ONE_BAM_PENDING, S.ONBOARDING, ""),
    ("Fundy Bay Fisheries Equipment Ltd.", "Fundy Bay", "saint_john", "40 Charlotte Street", Stage.ONE_BAM_PENDING, S.ONBOARDING, ""),
    ("Grand River Electronics Inc.", "Grand River Electronics", "kitchener", "22 Frederick Street", Stage.ONE_BAM_READY, S.ONBOARDING, ""),
    ("Épicerie fine Vieux-Québec inc.", "Épicerie Vieux-Québec", "quebec", "1150 rue Saint-Jean", Stage.ONE_BAM_READY, S.ONBOARDING, ""),
    ("Okanagan Orchard Equipment Ltd.", "Okanagan Orchard", "kelowna", "1632 Ellis Street", Stage.SECURITY_FIRST, S.ONBOARDING, ""),
    ("Bluenose Marine Supply Ltd.", "Bluenose Marine", "halifax", "1505 Barrington Street", Stage.TWO_BAMS, S.ONBOARDING, "bluenose"),
    ("Great Lakes Fastener Supply Ltd.", "Great Lakes Fasteners", "mississauga", "5100 Spectrum Way", Stage.TWO_BAMS, S.ONBOARDING, ""),
    ("Red River Apparel Ltd.", "Red River Apparel", "winnipeg", "330 Portage Avenue", Stage.TWO_BAMS, S.ONBOARDING, ""),
    ("Drummond Pièces Industrielles inc.", "DPI", "sherbrooke", "455 rue King Ouest", Stage.TWO_BAMS, S.ONBOARDING, ""),
    ("Forest City Bicycle Co. Ltd.", "Forest City Bikes", "london", "380 Wellington Street", Stage.PEOPLE_READY, S.ONBOARDING, ""),
    ("Prairie Sky Agricultural Parts Inc.", "Prairie Sky Ag", "edmonton", "10180 101 Street NW", Stage.PEOPLE_READY, S.ONBOARDING, ""),
    ("Harbourside Wine Merchants Inc.", "Harbourside Wines", "dartmouth", "50 Garland Avenue", Stage.PEOPLE_READY, S.ONBOARDING, ""),
    ("Petitcodiac Home Furnishings Ltd.", "Petitcodiac Home", "moncton", "770 Main Street", Stage.SECURITY_PENDING, S.ONBOARDING, ""),
    ("Outaouais Meubles et Décor inc.", "Meubles Outaouais", "gatineau", "25 rue Laurier", Stage.SECURITY_PENDING, S.ONBOARDING, ""),
    ("Tsawwassen Logistics Supply Inc.", "Tsawwassen Logistics", "delta", "7400 River Road", Stage.REGISTERED_NO_SECURITY, S.ONBOARDING, ""),
    ("Border City Auto Parts Inc.", "Border City Auto", "windsor", "100 Ouellette Avenue", Stage.REGISTERED, S.ACTIVE, ""),
    ("Pacific Rim Seafood Traders Ltd.", "Pacific Rim Seafood", "vancouver", "555 West Hastings Street", Stage.REGISTERED, S.ONBOARDING, ""),
    ("Peel Region Packaging Ltd.", "Peel Packaging", "brampton", "8 Kenview Boulevard", Stage.REGISTERED, S.ONBOARDING, ""),
    ("Bow River Oilfield Supply Ltd.", "Bow River Supply", "calgary", "333 7 Avenue SW", Stage.BLOCKED_SECURITY, S.ONBOARDING, "bowriver"),
    ("Boucherville Marine Equipment Inc.", "Boucherville Marine", "boucherville", "1500 rue Marie-Victorin", Stage.BLOCKED_DELEGATION, S.ONBOARDING, ""),
    ("Rideau Office Interiors Inc.", "Rideau Interiors", "ottawa", "150 Elgin Street", Stage.DONE, S.ACTIVE, "rideau"),
    ("Les Importations Mont-Royal inc.", "Importations Mont-Royal", "montreal", "1000 rue De La Gauchetière Ouest", Stage.DONE, S.ACTIVE, ""),
    ("Hamilton Steelworks Trading Corp.", "Hamilton Steelworks", "hamilton", "1 King Street West", Stage.DONE, S.ACTIVE, ""),
    ("Fraser Valley Tea Company Ltd.", "Fraser Valley Tea", "richmond", "6060 No. 3 Road", Stage.DONE, S.ACTIVE, ""),
    ("Northern Lights Outdoor Gear Inc.", "Northern Lights Outdoor", "toronto", "401 Richmond Street West", Stage.DONE, S.INACTIVE, ""),
]  # fmt: skip

# Importers whose mail goes to a PO box rather than the legal address.
PO_BOXES = {
    "Wheatland Grain Equipment Inc.": "PO Box 1217",
    "Fundy Bay Fisheries Equipment Ltd.": "PO Box 6480",
}

# login key -> [(membership role, slot index or None to add a person), email, name]
IMPORTER_LOGINS: dict[str, list[tuple[Membership.Role, int | None, str, str]]] = {
    "rideau": [
        (Membership.Role.BAM, 0, f"bam.rideau@{DEMO_DOMAIN}", "Sophie Bergeron"),
        (Membership.Role.FINANCE, None, f"finance.rideau@{DEMO_DOMAIN}", "Kevin O'Brien"),
        (Membership.Role.EMPLOYEE, 3, f"staff.rideau@{DEMO_DOMAIN}", "Amélie Lavoie"),
    ],
    "bluenose": [(Membership.Role.BAM, 0, f"bam.bluenose@{DEMO_DOMAIN}", "Colin MacDonald")],
    "bowriver": [(Membership.Role.BAM, 0, f"bam.bowriver@{DEMO_DOMAIN}", "Harpreet Gill")],
}
MEMBERSHIP_LABELS: dict[str, str] = {  # keyed by PersonPlan.login_role
    Membership.Role.BAM: "importer BAM",
    Membership.Role.FINANCE: "importer finance",
    Membership.Role.EMPLOYEE: "importer employee",
}
# What the person added for a membership does in the CCP.
ADDED_SLOT = {
    Membership.Role.FINANCE: PersonSlot(CcpRole.EDITOR, Responsibility.PAYMENTS, True, True),
    Membership.Role.EMPLOYEE: PersonSlot(CcpRole.READER, Responsibility.NONE, True, True),
}

FIRST_NAMES = [
    "Olivia", "Liam", "Chloé", "Noah", "Émilie", "Jacob", "Maya", "Ethan", "Zoé", "Lucas",
    "Hannah", "Raj", "Mei", "Samuel", "Fatima", "Gabriel", "Léa", "Owen", "Nadia", "Benjamin",
    "Julie", "Arjun", "Camille", "Tyler", "Sarah", "Mathieu", "Grace", "Wei", "Jessica", "Patrick",
]  # fmt: skip
LAST_NAMES = [
    "Tremblay", "Smith", "Martin", "Brown", "Côté", "Wilson", "Gagnon", "MacLeod", "Singh",
    "Bouchard", "Campbell", "Nguyen", "Pelletier", "Li", "Anderson", "Morin", "Patel", "Fraser",
    "Lévesque", "Thompson", "Wong", "Girard", "Clarke", "Leblanc", "Murphy", "Chan", "Fortin",
]  # fmt: skip
ACCOUNT_NAMES = ["Head office", "Retail division", "Warehouse and distribution"]


# --- The plan: pure data, the same on every run ---------------------------------------------------


@dataclass
class PersonPlan:
    email: str
    full_name: str
    slot: PersonSlot
    sign_in_method: str
    login_role: str = ""  # membership role when this person signs in to carm-portal


@dataclass
class ImporterPlan:
    values: dict[str, object]  # Importer fields, bn9 included
    agent_key: str | None
    group: str
    accounts: list[dict[str, object]]  # ProgramAccount fields, bn15 included
    people: list[PersonPlan]
    manual: dict[int, tuple[str, str, date | None]]  # step -> (status, note, completed on)
    stage: str = ""


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii()).lower()


def _bn9(rng: random.Random, taken: set[str]) -> str:
    while True:
        body = str(rng.randint(10_000_000, 89_999_999))
        bn9 = body + luhn.calc_check_digit(body)
        if bn9 not in taken:
            taken.add(bn9)
            return bn9


def build_plan(seed: int = SEED) -> list[ImporterPlan]:
    """Plan every demo importer from the fixed lists and ``seed``; no database access."""
    rng = random.Random(seed)  # noqa: S311  (demo data, not security)
    taken: set[str] = set()
    plans = []
    for legal, operating, city_key, street, stage, status, login_key in IMPORTERS:
        city, province, postal_code, area = CITIES[city_key]
        postal_code = normalize_postal_code(postal_code, province=province)  # a typo fails here
        bn9 = _bn9(rng, taken)
        domain = f"{_ascii(operating or legal.split()[0])}.example"
        values: dict[str, object] = {
            "legal_name": legal,
            "operating_name": operating,
            "bn9": bn9,
            "status": status,
            "address_line1": street,
            "city": city,
            "province": province,
            "postal_code": postal_code,
            "mailing_same_as_legal": legal not in PO_BOXES,
            "mailing_line1": PO_BOXES.get(legal, ""),
            "mailing_city": city if legal in PO_BOXES else "",
            "mailing_province": province if legal in PO_BOXES else "",
            "mailing_postal_code": postal_code if legal in PO_BOXES else "",
            "phone": normalize_phone(f"{area}555{rng.randint(100, 199):04d}"),
            "email": f"customs@{domain}",
            "notes": "",
        }
        group = GROUP_OF_PROVINCE[province]
        # Prospects have nobody assigned yet; the others go to one of their group's agents.
        agents = CLIENT_GROUPS[group]
        agent_key = None if status == S.PROSPECT else agents[rng.randrange(len(agents))]

        closed = stage == Stage.NOTHING
        opened = date(2008, 1, 15) + timedelta(days=rng.randrange(5000))
        accounts = [
            {
                "bn15": f"{bn9}RM{n:04d}",
                "name": ACCOUNT_NAMES[n - 1],
                "status": ProgramAccount.Status.CLOSED if closed else ProgramAccount.Status.ACTIVE,
                "opened_on": opened + timedelta(days=400 * (n - 1)),
            }
            for n in range(1, rng.choice([1, 1, 2, 2, 3]) + 1)
        ]
        if closed and status == S.PROSPECT:
            values["notes"] = "Former importer (RM account closed); wants to import again."
        elif closed:
            values["notes"] = "Stopped importing; RM account closed before CARM onboarding."

        people: list[PersonPlan] = []
        names = rng.sample([(f, la) for f in FIRST_NAMES for la in LAST_NAMES], 6)
        for slot, (first, last) in zip(PEOPLE[stage], names, strict=False):
            people.append(
                PersonPlan(
                    email=f"{_ascii(first)}.{_ascii(last)}@{domain}",
                    full_name=f"{first} {last}",
                    slot=slot,
                    sign_in_method=rng.choice(list(PortalUser.SignInMethod.values)),
                )
            )
        for role, index, email, full_name in IMPORTER_LOGINS.get(login_key, []):
            person = (
                people[index]
                if index is not None
                else PersonPlan("", "", ADDED_SLOT[role], PortalUser.SignInMethod.GCKEY)
            )
            if index is None:
                people.append(person)
            person.email, person.full_name, person.login_role = email, full_name, role

        manual: dict[int, tuple[str, str, date | None]] = {}
        done_on = date(2025, 3, 3) + timedelta(days=rng.randrange(240))
        for step, (step_status, note) in MANUAL.get(stage, {}).items():
            expiry = date(done_on.year + 2, 3, 31)
            manual[step] = (
                step_status,
                note.format(expiry=expiry.isoformat()),
                done_on + timedelta(days=7 * step) if step_status == StepStatus.DONE else None,
            )
        plans.append(ImporterPlan(values, agent_key, group, accounts, people, manual, stage))
    return plans


# --- Writing it: create what is missing, save only what differs ----------------------------------


class _Writer:
    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self._password_ok: dict[str, bool] = {}  # encoded hash -> matches DEMO_PASSWORD
        self._demo_hash = ""

    def sync(self, model: type[M], *, lookup: dict[str, object], values: dict[str, object]) -> M:
        """Create the row, or update the fields that differ; validate before any write."""
        label = model._meta.verbose_name_plural
        obj = model._default_manager.filter(**lookup).first()  # ``objects``: each model's only one
        if obj is None:
            obj = model(**lookup, **values)
            obj.full_clean()
            obj.save()
            self.created[str(label)] += 1
            return obj
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.full_clean()
            obj.save()
            self.updated[str(label)] += 1
        return obj

    def user(self, *, email: str, full_name: str, superuser: bool = False) -> User:
        user = self.sync(
            User,
            lookup={"email": email},
            values={
                "full_name": full_name,
                "is_active": True,
                "is_staff": superuser,
                "is_superuser": superuser,
                "password": self._password_for(User.objects.filter(email=email).first()),
            },
        )
        address = self.sync(
            EmailAddress,
            lookup={"user": user, "email": email},
            values={"verified": True, "primary": True},
        )
        EmailAddress.objects.filter(user=user).exclude(pk=address.pk).filter(primary=True).update(
            primary=False
        )
        return user

    def totp(self, user: User) -> Authenticator:
        """The broker staff's authenticator app: the published demo secret (put back if changed)."""
        # Not ``sync``: allauth's model does not pass ``full_clean`` (``last_used_at`` is null).
        # The secret is stored encrypted (``carm_portal.mfa``), and each encryption differs: compare
        # what it opens to, not the stored text.
        label = str(Authenticator._meta.verbose_name_plural)
        app, created = Authenticator.objects.get_or_create(
            user=user,
            type=Authenticator.Type.TOTP,
            defaults={"data": {"secret": seal(DEMO_TOTP_SECRET)}},
        )
        if created:
            self.created[label] += 1
        elif _opened_secret(app) != DEMO_TOTP_SECRET:
            app.data = {"secret": seal(DEMO_TOTP_SECRET)}
            app.save(update_fields=["data"])
            self.updated[label] += 1
        return app

    def _password_for(self, user: User | None) -> str:
        """Keep a hash that already matches the demo password (no needless write), else a new one.

        Every user written in one run gets the same hash, so a rerun checks it once, not per user.
        """
        if user is not None and user.password:
            if user.password not in self._password_ok:
                self._password_ok[user.password] = check_password(DEMO_PASSWORD, user.password)
            if self._password_ok[user.password]:
                return user.password
        if not self._demo_hash:
            self._demo_hash = make_password(DEMO_PASSWORD)
            self._password_ok[self._demo_hash] = True
        return self._demo_hash


def _manual_step(*, importer: Importer, step: int, plan: tuple, by: User) -> bool:
    """Confirm a step as a person would, unless it already says exactly that."""
    status, note, completed_on = plan
    row = OnboardingStep.objects.filter(importer=importer, step=step).first()
    if row is not None and (row.manual_status, row.note, row.completed_on) == plan:
        return False
    onboarding.set_step_status(
        importer=importer, step=step, status=status, by=by, note=note, completed_on=completed_on
    )
    return True


def _opened_secret(app: Authenticator) -> str | None:
    """The secret an authenticator app holds, or None if no key opens it (or it is missing)."""
    try:
        return open_secret(str(app.data.get("secret", "")))
    except UnreadableToken:
        return None


def demo_totp_code(at: float | None = None) -> str:
    """The demo staff's two-factor code now (or at the Unix time ``at``), as their app shows it."""
    moment = time.time() if at is None else at
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(moment) // mfa_settings.TOTP_PERIOD))


@transaction.atomic
def seed_demo(*, stdout: TextIO | None = None) -> DemoSummary:
    """Create or bring up to date the demo broker team, client groups, importers and their people."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    writer = _Writer()
    logins: list[DemoLogin] = []

    say("Broker team…")
    staff: dict[str, User] = {}
    for member in BROKER_TEAM:
        user = writer.user(
            email=member.email, full_name=member.full_name, superuser=member.superuser
        )
        group, _ = Group.objects.get_or_create(name=member.role.value)  # see clients/0002
        if list(user.groups.all()) != [group]:
            user.groups.set([group])
        staff[member.key] = user
        writer.totp(user)
        role = f"{member.role.value} (Django admin)" if member.superuser else member.role.value
        logins.append(DemoLogin(member.email, role, "all importers"))

    groups: dict[str, ClientGroup] = {}
    for name, agent_keys in CLIENT_GROUPS.items():
        groups[name] = writer.sync(ClientGroup, lookup={"name": name}, values={})
        wanted = {staff[key].pk for key in agent_keys}
        if set(groups[name].agents.values_list("pk", flat=True)) != wanted:
            groups[name].agents.set(wanted)

    say("Importers, program accounts and CCP portal users…")
    importer_logins: list[DemoLogin] = []
    confirmations = 0
    demo_bn9s = []
    by_stage: dict[str, list[Importer]] = {}
    for plan in build_plan():
        values = {
            **plan.values,
            "assigned_agent": staff[plan.agent_key] if plan.agent_key else None,
            "client_group": groups[plan.group],
        }
        bn9 = values.pop("bn9")
        demo_bn9s.append(bn9)
        importer = writer.sync(Importer, lookup={"bn9": bn9}, values=values)
        by_stage.setdefault(plan.stage, []).append(importer)
        for account in plan.accounts:
            account = dict(account)
            writer.sync(
                ProgramAccount,
                lookup={"bn15": account.pop("bn15")},
                values={"importer": importer, **account},
            )
        for person in plan.people:
            login_user = None
            if person.login_role:
                login_user = writer.user(email=person.email, full_name=person.full_name)
                writer.sync(
                    Membership,
                    lookup={"user": login_user, "importer": importer},
                    values={"role": person.login_role},
                )
                importer_logins.append(
                    DemoLogin(person.email, MEMBERSHIP_LABELS[person.login_role], str(importer))
                )
            writer.sync(
                PortalUser,
                lookup={"importer": importer, "email": person.email},
                values={
                    "full_name": person.full_name,
                    "ccp_role": person.slot.ccp_role,
                    "responsibility": person.slot.responsibility,
                    "sign_in_method": person.sign_in_method,
                    "profile_created": person.slot.profile_created,
                    "access_approved": person.slot.access_approved,
                    "user": login_user,
                },
            )
        for step, manual in plan.manual.items():
            confirmations += _manual_step(
                importer=importer, step=step, plan=manual, by=staff["admin"]
            )

    say("Delegations and the day's delegation check…")
    delegations_changed, check = seed_delegations(
        importers_by_stage=by_stage, by=staff["admin"], today=cbsa_today()
    )
    if delegations_changed:
        writer.updated["delegations"] += delegations_changed
    say(check.summary())

    say("Statements of account and broker entries…")
    say(
        seed_statements(
            importers=by_stage.get("done", [])[:3], by=staff["finance"], today=cbsa_today()
        ).summary()
    )

    say("Financial security, interest rates and payments…")
    say(
        seed_payments(
            importers_by_stage=by_stage, by=staff["finance"], today=cbsa_today()
        ).summary()
    )

    say("Services: prospects, webinars, walk-throughs, requests, fees; corrections, documents…")
    by_login = {
        key: Importer.objects.get(legal_name=legal)
        for legal, _op, _city, _street, _stage, _status, key in IMPORTERS
        if key
    }
    say(seed_services(importers=by_login, staff=staff, today=cbsa_today()).summary())

    roles = list(MEMBERSHIP_LABELS.values())
    logins += sorted(importer_logins, key=lambda login: (login.importer, roles.index(login.role)))

    importers = Importer.objects.filter(bn9__in=demo_bn9s)
    steps = OnboardingStep.objects.filter(importer__in=importers)
    done = Counter(
        steps.filter(status=StepStatus.DONE).values_list("importer_id", flat=True).iterator()
    )
    progress = Counter(done[pk] for pk in importers.values_list("pk", flat=True))
    demo_emails = [login.email for login in logins]
    return DemoSummary(
        password=DEMO_PASSWORD,
        totp_secret=DEMO_TOTP_SECRET,
        counts={
            "broker users": len(BROKER_TEAM),
            "client groups": len(groups),
            "importers": importers.count(),
            "program accounts": ProgramAccount.objects.filter(importer__in=importers).count(),
            "CCP portal users": PortalUser.objects.filter(importer__in=importers).count(),
            "importer logins": Membership.objects.filter(user__email__in=demo_emails).count(),
            "delegations": Delegation.objects.filter(importer__in=importers).count(),
            "open delegation alerts": DelegationAlert.objects.filter(
                importer__in=importers, resolved_at=None
            ).count(),
        },
        progress=dict(sorted(progress.items())),
        blocked=steps.filter(status=StepStatus.BLOCKED).values("importer").distinct().count(),
        created=writer.created,
        updated=writer.updated,
        confirmed=confirmations,
        logins=logins,
    )
