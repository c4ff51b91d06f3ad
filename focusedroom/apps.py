from django.apps import AppConfig
from django.db.models.signals import pre_save


class PlumbingConfig(AppConfig):
    """The shared plumbing: installs the guard that no row the database cannot hold is saved."""

    name = "focusedroom"
    label = "focusedroom"
    verbose_name = "FocusedRoom plumbing"

    def ready(self) -> None:
        from focusedroom.bounds import guard_pre_save

        pre_save.connect(guard_pre_save, dispatch_uid="focusedroom.bounds.guard_pre_save")
