from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class FocusedRoomAdminConfig(AdminConfig):
    """Django Admin with FocusedRoom's operator-console site (dashboard as the index)."""

    default_site = "focusedroom.console.site.FocusedRoomAdminSite"


class ConsoleConfig(AppConfig):
    """The shell's console: the dashboard and ``seed_demo`` (the only code that imports every app)."""

    name = "focusedroom.console"
    label = "console"
    verbose_name = "Operator console"

    def ready(self) -> None:
        from focusedroom.console import guardrails

        guardrails.register()
