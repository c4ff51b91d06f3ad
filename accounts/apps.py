from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and brands"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import roles

        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="accounts.roles.sync_after_migrate")
