"""Permissions shared by every app's API."""

from rest_framework import permissions


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff endpoints: an active staff member holding the model permission.

    Reads need the ``view`` permission too (DRF's default lets any authenticated
    user read).
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        return super().has_permission(request, view)
