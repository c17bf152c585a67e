"""django-allauth adapter: nobody signs up on their own.

Broker staff are created by a broker admin; importer people arrive by invitation (the invitation
view opens signup for the invited address only), so an open signup form would be a way around
tenancy.
"""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

INVITATION_SESSION_KEY = "carm_invitation_token"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(request.session.get(INVITATION_SESSION_KEY))
