from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "Experiments"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from accounts import signals as accounts_signals
        from engagement import signals as engagement_signals
        from experiments import gdpr, guardrails, receivers, selectors, services
        from experiments.models import Experiment, Variant
        from focusedroom import partitions, registries
        from focusedroom import signals as focusedroom_signals

        uid = "experiments.receivers."
        accounts_signals.person_identified.connect(receivers.on_person_identified, dispatch_uid=uid + "identified")
        accounts_signals.email_verified.connect(receivers.on_email_verified, dispatch_uid=uid + "email_verified")
        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid=uid + "logged_in")
        engagement_signals.quiz_completed.connect(receivers.on_quiz_completed, dispatch_uid=uid + "quiz_completed")
        focusedroom_signals.goal_reached.connect(receivers.on_goal_reached, dispatch_uid=uid + "goal_reached")
        for model in (Experiment, Variant):
            post_save.connect(
                receivers.on_definition_changed, sender=model, dispatch_uid=uid + f"save.{model.__name__}"
            )
            post_delete.connect(
                receivers.on_definition_changed, sender=model, dispatch_uid=uid + f"delete.{model.__name__}"
            )
        # Before engagement's part, which forgets the person's visitor ids this part reads.
        registries.register_gdpr_part(name="experiments", export=gdpr.export, erase=gdpr.erase, order=50)
        registries.holdout_rules.register("experiments", selectors.holdout_contains)
        guardrails.register()
        # Impressions are partitioned by month; retention (IMPRESSIONS_RETENTION_DAYS, off by default) drops months.
        partitions.register_partitioned_table(table="impressions", column="impression_at")
        partitions.register_retention_job(name="impressions", job=services.impressions_retention)
