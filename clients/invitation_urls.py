"""URLs of the invitation pages: an importer's invitations (list and invite form), resend, revoke,
the one-time accept link that the email carries, and the confirmation of a new BAM (by a BAM, or
by the importer's contact through a one-time link)."""

from django.urls import path

from clients import invitation_views as views

app_name = "invitations"

urlpatterns = [
    path("importer/<int:importer_pk>/", views.importer_invitations, name="importer"),
    path("<int:pk>/resend/", views.resend, name="resend"),
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
    path("accept/<str:token>/", views.accept, name="accept"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("confirm/<str:token>/", views.confirm_by_contact, name="confirm_by_contact"),
]
