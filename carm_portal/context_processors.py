"""Template context shared by every page: the signed-in user's side (broker or importer)."""

from django.http import HttpRequest

from clients import access


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_broker": False, "is_importer_user": False, "mfa_required": False}
    return {
        "is_broker": access.is_broker(user),
        "is_importer_user": access.is_importer_user(user),
        # The header's role label, in the page's language ("Administrateur du courtier").
        "broker_roles": [access.BROKER_ROLE_LABELS[r] for r in sorted(access.broker_roles(user))],
        "can_manage_prospects": access.can_global(user, access.GlobalPerm.MANAGE_PROSPECTS),
        "can_bill_charges": access.can_global(user, access.GlobalPerm.BILL_CHARGES),
        # Broker staff without an authenticator yet: the setup pages say why they are there.
        "mfa_required": access.lacks_required_mfa(user),
    }
