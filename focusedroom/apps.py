from django.contrib.admin.apps import AdminConfig


class FocusedRoomAdminConfig(AdminConfig):
    """Django Admin with FocusedRoom's operator-console site (dashboard as the index)."""

    default_site = "focusedroom.admin_site.FocusedRoomAdminSite"
