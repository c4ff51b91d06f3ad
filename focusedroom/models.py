"""Tables of the plumbing."""

from __future__ import annotations

from django.db import models


class DeliveryReceipt(models.Model):
    """One step of a background announcement that has taken effect (``focusedroom.delivery``).

    The key names the announcement and the step (``engagement.result_recorded:42/rewards.receivers.on_quiz_completed``);
    it is written in the same transaction as the step's effects, so a retried job skips what already
    happened: effects exactly once. Receipts older than ``DELIVERY_RECEIPT_DAYS`` are pruned daily.
    """

    key = models.CharField(max_length=255, primary_key=True)
    created_at = models.DateTimeField(db_default=models.functions.Now(), db_index=True)

    class Meta:
        db_table = "focusedroom_delivery_receipt"
