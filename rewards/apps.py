from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = "Rewards and Insight Gems"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts import signals as accounts_signals
        from engagement import signals as engagement_signals
        from focusedroom import registries
        from rewards import announcements, gdpr, receivers, selectors
        from rewards.schemas import validate_brand_settings

        accounts_signals.person_signed_up.connect(receivers.on_person_signed_up, dispatch_uid="rewards.signed_up")
        accounts_signals.person_identified.connect(receivers.on_person_identified, dispatch_uid="rewards.identified")
        accounts_signals.email_verified.connect(receivers.on_email_verified, dispatch_uid="rewards.email_verified")
        engagement_signals.quiz_completed.connect(receivers.on_quiz_completed, dispatch_uid="rewards.quiz_completed")
        engagement_signals.quiz_result_attached.connect(
            receivers.on_quiz_completed, dispatch_uid="rewards.quiz_attached"
        )
        # Before the daily reward: what the log-in itself earns is announced on the next page.
        user_logged_in.connect(announcements.remember_before_login, dispatch_uid="rewards.announcements_mark")
        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid="rewards.daily_login")
        registries.brand_settings.register("rewards", validate_brand_settings)  # run by Brand.clean()
        registries.register_account_panel(template="rewards/panel.html", context=selectors.dashboard_context, order=10)
        registries.register_gdpr_part(name="rewards", export=gdpr.export, erase=gdpr.erase)
        registries.event_references.register("product", selectors.known_product_ids)
