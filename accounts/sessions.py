"""The session engine: Django's database sessions in ``accounts_session``, with the person's id.

``SESSION_ENGINE = "accounts.sessions"``. Saving a session copies the logged-in person's id
from the session data into the ``user`` column, so ``sessions_end`` can end all of a
person's sessions with one ``DELETE``.
"""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):
        from accounts.models import Session

        return Session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        try:
            instance.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            instance.user_id = None
        return instance


def sessions_end(*, user_id: int, keep_session_key: str | None = None) -> int:
    """End every session of a person (except ``keep_session_key``); returns how many ended."""
    from accounts.models import Session

    sessions = Session.objects.filter(user_id=user_id)
    if keep_session_key:
        sessions = sessions.exclude(session_key=keep_session_key)
    deleted, _ = sessions.delete()
    return deleted
