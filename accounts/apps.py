from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and brands"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import (
            admin_verification_fields,  # noqa: F401  (registers its console pages)
            checks,  # noqa: F401  (system checks)
            gdpr_services,
            roles,
            signals,
            verification,
            views,
        )
        from focusedroom import registries

        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="accounts.roles.sync_after_migrate")
        signals.person_signed_up.connect(
            verification.on_person_signed_up, dispatch_uid="accounts.verification.signed_up"
        )
        signals.person_identified.connect(
            verification.on_person_identified, dispatch_uid="accounts.verification.identified"
        )
        # Erased last: the other apps' parts still see the person as they were.
        registries.register_gdpr_part(
            name=gdpr_services.ACCOUNTS_PART,
            export=gdpr_services.accounts_export,
            erase=gdpr_services.accounts_erase,
            order=1000,
        )
        registries.register_account_panel(
            template="accounts/panels/custom_fields.html", context=views.custom_fields_panel, order=50
        )
