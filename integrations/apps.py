from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from focusedroom import partitions, registries
        from integrations import gdpr, panels, receivers, webhooks

        receivers.connect()  # outbox rows for domain events, in the sender's transaction
        registries.register_gdpr_part(name="integrations", export=gdpr.export, erase=gdpr.erase)
        # The webhook log keeps a plain table (see webhooks.webhook_log_prune): row retention, six months.
        partitions.register_retention_job(name="webhook_log", job=webhooks.webhook_log_retention)
        registries.register_profile_panel(
            template="admin/integrations/audience_panel.html", context=panels.audience_panel
        )
