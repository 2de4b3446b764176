"""URLs of the Xero add-on under /addons/xero/ (the add-on page itself is the marketplace's /addons/xero/)."""

from django.urls import path

from xero_sync import views, views_queues, webhooks

app_name = "xero_sync"

urlpatterns = [
    path("connect/", views.connect, name="connect"),
    path("callback/", views.callback, name="callback"),
    path("choose/", views.choose, name="choose"),
    path("confirm/", views.confirm, name="confirm"),
    path("settings/", views.save_settings, name="settings"),
    path("settings/invoices/", views.save_write_settings, name="write_settings"),
    path("test/", views.test_connection, name="test"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("sync/", views.sync_now, name="sync"),
    path("sync/status/", views.sync_status, name="sync_status"),
    path("errors/<int:pk>/retry/", views.error_retry, name="error_retry"),
    path("errors/<int:pk>/dismiss/", views.error_dismiss, name="error_dismiss"),
    path("webhooks/", webhooks.receive, name="webhooks"),
]

# The Sync Queues (Payment, Outbound): /addons/xero/queues/payments/ and /addons/xero/queues/outbound/.
urlpatterns += [
    path("queues/<slug:queue>/", views_queues.queue_page, name="queue"),
    path("queues/<slug:queue>/<int:pk>/dequeue/", views_queues.queue_dequeue, name="queue_dequeue"),
    path("queues/<slug:queue>/<int:pk>/retry/", views_queues.queue_retry, name="queue_retry"),
]
