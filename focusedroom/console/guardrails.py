"""Guardrail metrics from the loyalty programme, for experiments.

``experiments`` and ``rewards`` sit side by side and never import each other; the shell, which
knows both, registers the gems a participant earned and redeemed as guardrail metrics
(``focusedroom.registries.guardrail_metrics``) so that a variant that makes members earn or
spend fewer gems is flagged on its results.
"""

from __future__ import annotations

from focusedroom.registries import GuardrailMetric, register_guardrail_metric
from rewards.models import LedgerEntry, Wallet

_LEDGER = LedgerEntry._meta.db_table
_WALLETS = Wallet._meta.db_table

GEMS_EARNED = GuardrailMetric(
    name="gems_earned",
    label="Gems earned",
    kind="mean",
    harm="decrease",
    unit="gems per participant",
    order=10,
    sql=f"""
        SELECT w.user_id, e.created_at AS occurred_at, e.amount AS value
          FROM {_LEDGER} e JOIN {_WALLETS} w ON w.id = e.wallet_id
         WHERE e.kind = 'CREDIT' AND e.reason <> 'reversal' AND e.created_at >= %(since)s
    """,  # noqa: S608 (table names are constants)
)

GEMS_REDEEMED = GuardrailMetric(
    name="gems_redeemed",
    label="Gems redeemed",
    kind="mean",
    harm="decrease",
    unit="gems per participant",
    order=20,
    sql=f"""
        SELECT w.user_id, e.created_at AS occurred_at, e.amount AS value
          FROM {_LEDGER} e JOIN {_WALLETS} w ON w.id = e.wallet_id
         WHERE e.kind = 'DEBIT' AND e.reason = 'redemption' AND e.created_at >= %(since)s
    """,  # noqa: S608 (table names are constants)
)


def register() -> None:
    for metric in (GEMS_EARNED, GEMS_REDEEMED):
        register_guardrail_metric(metric)
