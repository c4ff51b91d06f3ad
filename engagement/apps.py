from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = "Engagement and integrations"

    def ready(self) -> None:
        from engagement.integrations import gdpr, receivers

        receivers.connect()  # outbox rows for domain events, in the sender's transaction
        gdpr.register()  # export/erasure of the event log, outbox, webhook log, AI profile
