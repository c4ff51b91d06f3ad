"""Domain signals published by ``engagement`` (receivers run inside the sender's transaction)."""

from django.dispatch import Signal

# A quiz (the Big Five test) was submitted and stored.
# kwargs: result (the stored quiz result), user (or None when anonymous), anonymous_id (str), request (or None)
quiz_completed = Signal()
