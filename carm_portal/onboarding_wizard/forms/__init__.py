"""One form per step of the onboarding wizard, one module per step (``steps.py`` names the steps).

Every form takes the importer, the signed-in user, CBSA's today and what the wizard saved for the
step (``saved``), validates with the rules the broker's own pages use (``clients.validators``,
``clients.validation``, ``payments.validation``, ``delegation.validation``, ``PortalUserForm``),
and ``apply()`` hands the cleaned answers to ``steps``. ``initial_from_records()`` fills a step
nobody has answered yet from what the broker already holds.

``FORMS`` maps each step's slug to its form.
"""

from __future__ import annotations

from carm_portal.onboarding_wizard.forms.bams import BamsForm
from carm_portal.onboarding_wizard.forms.base import WizardForm
from carm_portal.onboarding_wizard.forms.broker_access import EXPIRY_REQUIRED, BrokerAccessForm
from carm_portal.onboarding_wizard.forms.business import (
    BusinessForm,
    check_accounts,
    check_bn9,
    parse_accounts,
)
from carm_portal.onboarding_wizard.forms.employee_access import EmployeeAccessForm
from carm_portal.onboarding_wizard.forms.people import PeopleForm
from carm_portal.onboarding_wizard.forms.profiles import ProfilesForm
from carm_portal.onboarding_wizard.forms.registration import RegistrationForm
from carm_portal.onboarding_wizard.forms.security import SecurityForm

__all__ = [
    "EXPIRY_REQUIRED",
    "FORMS",
    "BamsForm",
    "BrokerAccessForm",
    "BusinessForm",
    "EmployeeAccessForm",
    "PeopleForm",
    "ProfilesForm",
    "RegistrationForm",
    "SecurityForm",
    "WizardForm",
    "check_accounts",
    "check_bn9",
    "parse_accounts",
]

FORMS: dict[str, type[WizardForm]] = {
    "security": SecurityForm,
    "bams": BamsForm,
    "profiles": ProfilesForm,
    "business": BusinessForm,
    "registration": RegistrationForm,
    "employee-access": EmployeeAccessForm,
    "broker-access": BrokerAccessForm,
}
