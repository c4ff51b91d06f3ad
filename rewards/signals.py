"""Domain signals published by ``rewards`` (receivers run inside the sender's transaction)."""

from django.dispatch import Signal

# kwargs: entry (the ledger entry), user
gems_credited = Signal()
# kwargs: referral, referrer, referee, request (or None)
referral_converted = Signal()
# kwargs: user, brand, old_rank (or None), new_rank (or None)
rank_changed = Signal()
# kwargs: user, achievement (the person's achievement row), config
achievement_unlocked = Signal()
# kwargs: user, product, points_awarded, event
product_scanned = Signal()
