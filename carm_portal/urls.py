"""carm-portal URLs: pages by app, django-allauth, the admin and the REST API."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from carm_portal import api_docs, api_token_views, user_language
from carm_portal.today import views as today

# The admin's own login form would skip allauth's rate limits and two-factor stage: a signed-out
# visitor of /admin/login/ is sent to allauth's sign-in page, which comes back to the admin.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # allauth's way

urlpatterns = [
    path("", today.home, name="home"),
    path("clients/", include("clients.urls")),
    path("staff/", include("clients.staff_urls")),
    path("delegations/", include("delegation.urls")),
    path("statements/", include("statements.urls")),
    path("payments/", include("payments.urls")),
    path("services/", include("services.urls")),
    path("compliance/", include("services.compliance_urls")),
    path("invitations/", include("clients.invitation_urls")),
    path("onboarding/", include("carm_portal.onboarding_wizard.urls")),
    # The header's tools: the inbox, the search box and the deadline calendar.
    path("notifications/", include("carm_portal.inbox.urls")),
    path("search/", include("carm_portal.site_search.urls")),
    path("calendar/", include("carm_portal.deadlines.urls")),
    path("accounts/api-tokens/", api_token_views.token_list, name="api_tokens"),
    path(
        "accounts/api-tokens/<int:pk>/revoke/",
        api_token_views.token_revoke,
        name="api_token_revoke",
    ),
    path("accounts/", include("allauth.urls")),
    # Django's set_language, also saving a signed-in user's choice (carm_portal/user_language.py).
    path("i18n/setlang/", user_language.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("carm_portal.api_urls")),
    path("api/schema/", api_docs.schema_view, name="api-schema"),
    path("api/docs/", api_docs.docs_view, name="api-docs"),
]
