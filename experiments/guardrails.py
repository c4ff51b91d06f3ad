"""The guardrail metrics experiments define from the data below them (``accounts``).

Each is a ``focusedroom.registries.GuardrailMetric``: SQL rows ``user_id, occurred_at, value``
that the results sum per participant from the first exposure to the end of the conversion
window. Other apps add theirs to the same registry (the gems of the loyalty programme).
"""

from __future__ import annotations

from accounts.selectors import PEOPLE_TABLE, PERSON_CHANGE_TABLE
from focusedroom.registries import GuardrailMetric, register_guardrail_metric

UNSUBSCRIBES = GuardrailMetric(
    name="unsubscribes",
    label="Unsubscribes",
    kind="proportion",
    harm="increase",
    unit="share of participants",
    order=30,
    sql=f"""
        SELECT user_id, created_at AS occurred_at, 1 AS value
          FROM {PERSON_CHANGE_TABLE}
         WHERE NOT marketing_opt_in AND created_at >= %(since)s
    """,  # noqa: S608 (table name constant)
)

EMAIL_BOUNCES = GuardrailMetric(
    name="email_bounces",
    label="Email bounces",
    kind="proportion",
    harm="increase",
    unit="share of participants",
    order=40,
    sql=f"""
        SELECT id AS user_id, email_bounced_at AS occurred_at, 1 AS value
          FROM {PEOPLE_TABLE}
         WHERE email_bounced_at >= %(since)s
    """,  # noqa: S608 (table name constant)
)


def register() -> None:
    for metric in (UNSUBSCRIBES, EMAIL_BOUNCES):
        register_guardrail_metric(metric)
