from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = "Engagement"

    def ready(self) -> None:
        from engagement import event_log, gdpr, selectors
        from focusedroom import partitions, registries

        registries.register_gdpr_part(name="engagement", export=gdpr.export, erase=gdpr.erase)
        # The event log is partitioned by month; retention drops whole months (EVENTS_RETENTION_DAYS).
        partitions.register_partitioned_table(table="engagement_event", column="created_at")
        partitions.register_retention_job(name="events", job=event_log.events_retention)
        registries.register_account_panel(
            template="engagement/panel.html", context=selectors.bigfive_history_panel, order=5
        )
