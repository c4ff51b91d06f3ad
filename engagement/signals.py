"""Domain signals published by ``engagement``.

``quiz_completed`` is sent by a worker after the submission committed (``engagement.result_recorded``,
through ``focusedroom.delivery``): each receiver runs at most once per result, raises on failure (the
job retries it) and needs no savepoint. ``quiz_result_attached`` is sent inside the sender's transaction.
"""

from django.dispatch import Signal

# A quiz (the Big Five test) was submitted and stored.
# kwargs: result (the stored quiz result), user (the person it is attached to, or None when it is
# anonymous or waits for its owner's confirmation), anonymous_id (str), context (the submission's,
# rebuilt in the worker; ``context.visitor_id_is_new``: the visitor id was born with this submission),
# identified (bool: ``person_identified`` was announced for the same submission just before)
quiz_completed = Signal()

# A result that waited for its owner was added to their history (they followed the emailed link).
# Receivers do what they do for a completed test of that person (quiz gems once per result,
# provider events). kwargs: result, user, context
quiz_result_attached = Signal()
