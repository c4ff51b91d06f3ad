"""The operator console: Django Admin whose index is the morning dashboard."""

from django.contrib import admin

from focusedroom.admin_tools import DatabaseFilledFieldsHidden


class FocusedRoomAdminSite(admin.AdminSite):
    site_header = "FocusedRoom operator console"
    site_title = "FocusedRoom console"
    index_title = "Dashboard"
    index_template = "admin/dashboard.html"
    # Lists and forms get the whole width; the dashboard, breadcrumbs and the app index lead the way.
    enable_nav_sidebar = False

    @property
    def login_form(self):  # the failed-log-in limits say so clearly on the console's log-in page
        from accounts.forms import ConsoleLoginForm

        return ConsoleLoginForm

    @property
    def password_change_form(self):  # a staff member's own password, through the service
        from accounts.forms import ChangePasswordForm

        return ChangePasswordForm

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every admin of the console leaves the fields the database fills off its add form
        (``focusedroom.admin_tools.DatabaseFilledFieldsHidden``)."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, DatabaseFilledFieldsHidden):
            admin_class = type(
                admin_class.__name__,
                (DatabaseFilledFieldsHidden, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        return super().register(model_or_iterable, admin_class, **options)

    def get_urls(self):
        from functools import partial

        from django.urls import path

        from focusedroom.console import background

        return [
            path(
                "background/", self.admin_view(partial(background.background_view, admin_site=self)), name="background"
            ),
            path(
                "background/retry/<int:job_id>/",
                self.admin_view(partial(background.retry_view, admin_site=self)),
                name="background_retry",
            ),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        from focusedroom.console.dashboard import dashboard_context

        return super().index(request, {**dashboard_context(request=request), **(extra_context or {})})
