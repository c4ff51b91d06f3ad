"""Signals of the plumbing: facts that any app may announce and any app may hear.

``goal_reached`` lets an app announce that a person reached a built-in goal (a referral
converted, …) without knowing who counts it: ``experiments`` records it as a conversion.
It is how sibling apps (``rewards`` and ``experiments``) talk without importing each other.
"""

from django.dispatch import Signal

# A person reached a built-in goal. kwargs: user, goal (str, e.g. "referral_converted"), context
goal_reached = Signal()
