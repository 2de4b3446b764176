from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("", views.marketplace, name="marketplace"),
    path("<slug:key>/", views.addon_page, name="addon"),
    path("<slug:key>/install/", views.install, name="install"),
    path("<slug:key>/uninstall/", views.uninstall, name="uninstall"),
]
