from django.urls import path

from payments import review_views, views

app_name = "payments"

urlpatterns = [
    path("", views.payment_list, name="list"),
    path("new/<int:importer_pk>/", views.payment_create, name="create"),
    path("<int:pk>/", views.payment_detail, name="detail"),
    path("<int:pk>/status/", views.payment_status, name="status"),
    path("<int:pk>/allocate/", views.payment_allocate, name="allocate"),
    path("worklist/", views.worklist, name="worklist"),
    path("forecast/", views.forecast, name="forecast"),
    path("rates/", views.rates, name="rates"),
    path("security/", views.security_list, name="security_list"),
    path("security/new/<int:importer_pk>/", views.security_create, name="security_create"),
    path("security/<int:pk>/", views.security_detail, name="security_detail"),
    path("security/<int:pk>/edit/", views.security_edit, name="security_edit"),
    path(
        "security/account/<int:pk>/review/",
        review_views.security_review,
        name="security_review",
    ),
    path(
        "bank-accounts/importer/<int:importer_pk>/", views.bank_account_list, name="bank_accounts"
    ),
    path(
        "bank-accounts/new/<int:importer_pk>/",
        views.bank_account_create,
        name="bank_account_create",
    ),
    path("bank-accounts/<int:pk>/", views.bank_account_detail, name="bank_account_detail"),
    path("bank-accounts/<int:pk>/reveal/", views.bank_account_reveal, name="bank_account_reveal"),
    path("bank-accounts/<int:pk>/edit/", views.bank_account_edit, name="bank_account_edit"),
    path(
        "bank-accounts/<int:pk>/deactivate/",
        views.bank_account_deactivate,
        name="bank_account_deactivate",
    ),
    path(
        "bank-accounts/<int:pk>/reactivate/",
        views.bank_account_reactivate,
        name="bank_account_reactivate",
    ),
]
