"""Limits on guessing passwords and on asking for password-reset emails.

Failed log-ins are counted per account (the email tried) and per client address
(``focusedroom.context.client_ip``) in a window of ``LOGIN_FAILURE_WINDOW_SECONDS``; once
either count reaches its limit, every log-in attempt for that account or from that address
is refused with a clear message until the window ends — the right password included, so
guessing gains nothing. A successful log-in clears the account's count. Every door that
checks a password goes through ``accounts.backends.ThrottledModelBackend``: the member
log-in page, the console's log-in page and ``POST /api/v1/auth/token/``.

Password-reset emails are limited per account and per address per hour.
"""

from __future__ import annotations

from django.conf import settings

from accounts.models import normalize_email
from focusedroom import ratelimit

HOUR = 3600


def _login_limits() -> tuple[tuple[str, int], ...]:
    return (
        ("login-account", settings.LOGIN_FAILURES_PER_ACCOUNT),
        ("login-address", settings.LOGIN_FAILURES_PER_ADDRESS),
    )


def login_retry_after(*, email: str, ip: str | None) -> int:
    """Seconds until log-ins for this account or from this address are accepted again (0: now)."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    values = {"login-account": normalize_email(email), "login-address": ip}
    return max(
        ratelimit.retry_after(scope=scope, value=values[scope], limit=limit, window=window)
        for scope, limit in _login_limits()
        if values[scope]  # no request (a script calling authenticate()): no address to count
    )


def login_failed(*, email: str, ip: str | None) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    ratelimit.hit(scope="login-account", value=normalize_email(email), window=window)
    if ip:
        ratelimit.hit(scope="login-address", value=ip, window=window)


def login_succeeded(*, email: str) -> None:
    ratelimit.clear(scope="login-account", value=normalize_email(email), window=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def password_reset_retry_after(*, email: str, ip: str | None) -> int:
    """Count one password-reset request; seconds to wait when a limit is already reached (0: go ahead)."""
    checks = [("reset-account", normalize_email(email), settings.PASSWORD_RESETS_PER_ACCOUNT)]
    if ip:
        checks.append(("reset-address", ip, settings.PASSWORD_RESETS_PER_ADDRESS))
    wait = max(ratelimit.retry_after(scope=s, value=v, limit=limit, window=HOUR) for s, v, limit in checks)
    if wait:
        return wait
    for scope, value, _ in checks:
        ratelimit.hit(scope=scope, value=value, window=HOUR)
    return 0


def wait_message(seconds: int, what: str) -> str:
    minutes = max(1, round(seconds / 60))
    return f"Too many {what}. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
