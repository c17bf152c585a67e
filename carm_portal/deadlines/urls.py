from django.urls import path

from carm_portal.deadlines import views

app_name = "deadlines"

urlpatterns = [
    path("", views.month, name="month"),
    path("feed/new/", views.regenerate_feed, name="regenerate_feed"),
    path("feed/revoke/", views.revoke_feed, name="revoke_feed"),
    path("feed/<str:token>.ics", views.ics, name="feed"),
]
