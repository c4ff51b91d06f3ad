from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = "Engagement"

    def ready(self) -> None:
        from engagement import gdpr, selectors
        from focusedroom import registries

        registries.register_gdpr_part(name="engagement", export=gdpr.export, erase=gdpr.erase)
        registries.register_account_panel(
            template="engagement/panel.html", context=selectors.bigfive_history_panel, order=5
        )
