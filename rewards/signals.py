"""Domain signals published by ``rewards`` (receivers run inside the sender's transaction).

Every signal also carries ``context``: the ``focusedroom.context.RequestContext`` of the act
(who, from where, through which door), or None.
"""

from django.dispatch import Signal

# kwargs: entry (the ledger entry), user, context
gems_credited = Signal()
# kwargs: referral, referrer, referee, context
referral_converted = Signal()
# kwargs: user, brand, old_rank (or None), new_rank (or None), context
rank_changed = Signal()
# kwargs: user, achievement (the person's achievement row), config, context
achievement_unlocked = Signal()
# kwargs: user, product, points_awarded, event, context
product_scanned = Signal()
# kwargs: user, lots (list of {"lot_id", "amount", "expires_at", "brand"}), amount (their total),
# expires_at (the soonest), context — sent once per lot: the member's gems expire within 14 days
gems_expiring = Signal()
# kwargs: pending (the PendingCredit), user, context — a credit held before it becomes spendable
gems_held = Signal()
