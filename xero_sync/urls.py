"""URLs of the Xero add-on under /addons/xero/ (the add-on page itself is the marketplace's /addons/xero/)."""

from django.urls import path

from xero_sync import views

app_name = "xero_sync"

urlpatterns = [
    path("connect/", views.connect, name="connect"),
    path("callback/", views.callback, name="callback"),
    path("choose/", views.choose, name="choose"),
    path("confirm/", views.confirm, name="confirm"),
    path("settings/", views.save_settings, name="settings"),
    path("test/", views.test_connection, name="test"),
    path("disconnect/", views.disconnect, name="disconnect"),
]
