"""Domain signals published by ``accounts``.

Other apps subscribe in their ``AppConfig.ready()`` and react through their own
services (referrals, experiment identity stitching, outbox rows). Receivers run
synchronously inside the sender's transaction, so what they write commits or rolls
back with the change they react to. ``context`` is the ``focusedroom.context.RequestContext``
of the act (who, from where, through which door); it may be None.
"""

from django.dispatch import Signal

# A member account was created or claimed through sign-up.
# kwargs: user, referral_code (str, may be empty), context
person_signed_up = Signal()

# A visitor became a known person (test submitted with an email, log-in, verification).
# kwargs: user, created (bool: the person is new), anonymous_id (str, may be empty), context
person_identified = Signal()

# A person proved they own their email address (verification link or account claim).
# kwargs: user, context, verification (the EmailVerificationToken used; absent when an
# account claim proved the email)
email_verified = Signal()

# A person's profile or consent changed (their own edit, staff in the console, a webhook, an import).
# kwargs: user, fields (list of changed field names), source (str), context
person_updated = Signal()
