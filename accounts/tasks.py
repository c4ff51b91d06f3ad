"""Background work of ``accounts`` (thin: parse, call a service)."""

from __future__ import annotations

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

RETRY = RetryStrategy(max_attempts=8, exponential_wait=5)


@app.task(name="accounts.verification_resend", queue="email", retry=RETRY)
def verification_resend(*, email: str, context: str | None = None) -> None:
    from accounts.verification import verification_resend as resend

    resend(email=email, context=context)


@app.task(name="accounts.password_reset_send", queue="email", retry=RETRY)
def password_reset_send(*, email: str, options: dict) -> None:
    from accounts.forms import password_reset_send as send

    send(email=email, options=options)
