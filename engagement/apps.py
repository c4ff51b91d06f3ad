from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = "Engagement"

    def ready(self) -> None:
        from engagement import gdpr
        from focusedroom import registries

        registries.register_gdpr_part(name="engagement", export=gdpr.export, erase=gdpr.erase)
