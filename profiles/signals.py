"""Domain signals published by ``profiles`` (receivers run inside the sender's transaction)."""

from django.dispatch import Signal

# A budget's spend crossed an alert threshold. kwargs: budget, threshold (percent), actor (or None)
budget_alert_fired = Signal()
