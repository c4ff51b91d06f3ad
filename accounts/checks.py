"""System check: every app that keeps rows about a person can export and erase them.

A model with a foreign key (or one-to-one) to the user belongs to an app that registered
a GDPR part under its app label (``focusedroom.registries.register_gdpr_part``); otherwise
``manage.py check`` (and so CI) fails with ``accounts.E001``.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, register

from focusedroom import registries


def _points_at_a_person(model) -> list[str]:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return [
        f.name
        for f in model._meta.get_fields()
        if f.concrete
        and (f.many_to_one or f.one_to_one)
        and f.related_model is not None
        and f.related_model._meta.concrete_model is user_model
    ]


def project_app_configs(app_configs=None):
    base = str(settings.BASE_DIR)
    return [
        c for c in (app_configs or apps.get_app_configs()) if c.path.startswith(base) and "site-packages" not in c.path
    ]


@register(Tags.models)
def gdpr_parts_cover_person_models(app_configs=None, **kwargs) -> list[Error]:
    covered = set(registries.gdpr_parts.names())
    errors = []
    for config in project_app_configs(app_configs):
        if config.label in covered:
            continue
        for model in config.get_models():
            if model._meta.proxy:
                continue
            fields = _points_at_a_person(model)
            if fields:
                errors.append(
                    Error(
                        f"{model._meta.label} points at a person ({', '.join(fields)}) but the "
                        f"{config.label!r} app registers no GDPR part.",
                        hint="Register export and erase functions with focusedroom.registries.register_gdpr_part("
                        f"name={config.label!r}, …) in the app's AppConfig.ready().",
                        obj=model,
                        id="accounts.E001",
                    )
                )
    return errors
