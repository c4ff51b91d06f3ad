"""The operator console: Django Admin whose index is the morning dashboard."""

from django.contrib import admin


class FocusedRoomAdminSite(admin.AdminSite):
    site_header = "FocusedRoom operator console"
    site_title = "FocusedRoom console"
    index_title = "Dashboard"
    index_template = "admin/dashboard.html"

    @property
    def login_form(self):  # the failed-log-in limits say so clearly on the console's log-in page
        from accounts.forms import ConsoleLoginForm

        return ConsoleLoginForm

    @property
    def password_change_form(self):  # a staff member's own password, through the service
        from accounts.forms import ChangePasswordForm

        return ChangePasswordForm

    def index(self, request, extra_context=None):
        from focusedroom.console.dashboard import dashboard_context

        return super().index(request, {**dashboard_context(request=request), **(extra_context or {})})
