from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from focusedroom import registries
        from integrations import gdpr, panels, receivers

        receivers.connect()  # outbox rows for domain events, in the sender's transaction
        registries.register_gdpr_part(name="integrations", export=gdpr.export, erase=gdpr.erase)
        registries.register_profile_panel(
            template="admin/integrations/audience_panel.html", context=panels.audience_panel
        )
