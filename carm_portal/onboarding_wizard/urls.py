"""URLs of the self-service onboarding wizard (issue 7): resume, one page per step, the summary,
and the small live-validation endpoint the business-information step calls through HTMX."""

from django.urls import path

from carm_portal.onboarding_wizard import views as wizard

app_name = "onboarding"

urlpatterns = [
    path("<int:importer_pk>/", wizard.resume, name="wizard"),
    path("<int:importer_pk>/done/", wizard.done, name="done"),
    path("<int:importer_pk>/statement/", wizard.statement_file, name="statement"),
    path("<int:importer_pk>/validate/", wizard.validate_field, name="validate"),
    path("<int:importer_pk>/<slug:step_slug>/", wizard.step, name="step"),
]
