"""Domain signals published by ``engagement`` (receivers run inside the sender's transaction)."""

from django.dispatch import Signal

# A quiz (the Big Five test) was submitted and stored.
# kwargs: result (the stored quiz result), user (the person it is attached to, or None when it is
# anonymous or waits for its owner's confirmation), anonymous_id (str), context
quiz_completed = Signal()

# A result that waited for its owner was added to their history (they followed the emailed link).
# Receivers do what they do for a completed test of that person (quiz gems once per result,
# provider events). kwargs: result, user, context
quiz_result_attached = Signal()
