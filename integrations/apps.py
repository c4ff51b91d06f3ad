from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from focusedroom import registries
        from integrations import gdpr, receivers

        receivers.connect()  # outbox rows for domain events, in the sender's transaction
        registries.register_gdpr_part(name="integrations", export=gdpr.export, erase=gdpr.erase)
