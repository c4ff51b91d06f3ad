from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = "Campaign profiles"

    def ready(self) -> None:
        from focusedroom import registries
        from profiles import gdpr

        registries.register_gdpr_part(name="profiles", export=gdpr.export)
