"""The importer's people, for steps 3 (CCP profiles) and 6 (employee access): a form with fields
per existing portal user, named ``p<id>_<what>``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from carm_portal.onboarding_wizard.forms.base import WizardForm, active_accounts
from clients.models import PortalUser

Role = PortalUser.CcpRole


SIGN_IN_CHOICES = [("", _("Not known yet")), *PortalUser.SignInMethod.choices]
NEW_ROLES = [
    (Role.EDITOR, Role.EDITOR.label),
    (Role.READER, Role.READER.label),
    (Role.PAM, Role.PAM.label),
]


class PeopleForm(WizardForm):
    """A form with fields per existing portal user, named ``p<id>_<what>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = list(self.importer.portal_users.select_related("program_account"))
        self.accounts = list(active_accounts(self.importer))
        self.accounts_by_pk = {a.pk: a for a in self.accounts}
        for person in self.people:
            self.add_person_fields(person)

    def add_person_fields(self, person: PortalUser) -> None:
        raise NotImplementedError

    def rows(self, *names: str) -> list[dict[str, Any]]:
        return [
            {"person": p, **{name: self[f"p{p.pk}_{name}"] for name in names}} for p in self.people
        ]
