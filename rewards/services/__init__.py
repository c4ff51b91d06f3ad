"""Every write of the rewards app, by sub-domain:

* ``ledger``: membership (wallet, welcome credit, referral code), ledger entries, staff
  adjustments, reversals and the audit;
* ``earning``: engagement rewards (daily login, email verified, quiz) and product scans;
* ``referrals``: codes, pending referrals, fraud rules and review, conversion, expiry;
* ``pending``: credits held pending for some days, their release and cancellation;
* ``expiry``: the expiry job (expiry entries per lot, the 14-day warning);
* ``ranks``: members' ranks on lifetime earned;
* ``achievements``: progress and awards;
* ``catalogue``: products, reward items, ranks and achievement configurations, redemptions;
* ``goals``: wishlists and savings goals;
* ``idempotency``: stored answers of API requests with an ``Idempotency-Key``.

Other apps and the rewards views use this package (``from rewards import services``);
the names below are its public interface. Only members hold gems: every service refuses
staff accounts (``member_require``).
"""

from rewards.services.achievements import (
    TIMEFRAME_DAYS,
    achievement_metric,
    achievements_evaluate,
    achievements_recompute,
    criteria_met,
)
from rewards.services.catalogue import (
    CATALOGUE_FIELDS,
    achievement_config_create,
    achievement_config_delete,
    achievement_config_update,
    catalogue_validate,
    entry_reverse_by_staff,
    product_create,
    product_delete,
    product_update,
    rank_create,
    rank_delete,
    rank_update,
    redemption_create,
    redemption_reverse,
    reward_item_create,
    reward_item_delete,
    reward_item_update,
)
from rewards.services.common import STAFF_REFUSAL, brand_default, local_date, member_require
from rewards.services.earning import (
    daily_reward_claim,
    email_verified_reward,
    parse_qr,
    product_scan,
    quiz_reward,
)
from rewards.services.expiry import lots_expire, wallet_lots_process
from rewards.services.goals import (
    goal_create,
    goal_delete,
    goal_update,
    wishlist_add,
    wishlist_goals_erase,
    wishlist_remove,
)
from rewards.services.idempotency import idempotency_begin, idempotency_erase, idempotency_finish
from rewards.services.ledger import (
    AUDIT_SQL,
    InsufficientGems,
    gems_credit,
    gems_debit,
    ledger_reverse,
    lots_audit,
    member_enrol,
    rewards_audit,
    wallet_adjust,
    wallet_replay,
)
from rewards.services.pending import (
    credit_or_hold,
    pending_credit_cancel,
    pending_credit_release,
    pending_credits_release,
)
from rewards.services.ranks import rank_for, rank_recompute, ranks_recompute_all
from rewards.services.referrals import (
    referral_approve,
    referral_code_ensure,
    referral_convert,
    referral_create_pending,
    referral_data_erase,
    referral_hold_reasons,
    referral_reject,
    referrals_expire,
)

__all__ = [
    "AUDIT_SQL",
    "CATALOGUE_FIELDS",
    "InsufficientGems",
    "STAFF_REFUSAL",
    "TIMEFRAME_DAYS",
    "achievement_config_create",
    "achievement_config_delete",
    "achievement_config_update",
    "achievement_metric",
    "achievements_evaluate",
    "achievements_recompute",
    "brand_default",
    "catalogue_validate",
    "credit_or_hold",
    "criteria_met",
    "daily_reward_claim",
    "email_verified_reward",
    "entry_reverse_by_staff",
    "gems_credit",
    "gems_debit",
    "goal_create",
    "goal_delete",
    "goal_update",
    "idempotency_begin",
    "idempotency_erase",
    "idempotency_finish",
    "ledger_reverse",
    "local_date",
    "lots_audit",
    "lots_expire",
    "member_enrol",
    "member_require",
    "parse_qr",
    "pending_credit_cancel",
    "pending_credit_release",
    "pending_credits_release",
    "product_create",
    "product_delete",
    "product_scan",
    "product_update",
    "quiz_reward",
    "rank_create",
    "rank_delete",
    "rank_for",
    "rank_recompute",
    "rank_update",
    "ranks_recompute_all",
    "redemption_create",
    "redemption_reverse",
    "referral_approve",
    "referral_code_ensure",
    "referral_convert",
    "referral_create_pending",
    "referral_data_erase",
    "referral_hold_reasons",
    "referral_reject",
    "referrals_expire",
    "reward_item_create",
    "reward_item_delete",
    "reward_item_update",
    "rewards_audit",
    "wallet_adjust",
    "wallet_lots_process",
    "wallet_replay",
    "wishlist_add",
    "wishlist_goals_erase",
    "wishlist_remove",
]
