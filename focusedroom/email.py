"""Templated email with HTML and text parts through Django's email backend.

Requests never send email themselves: ``send_templated_email_later`` and ``deliver_later`` hand
the message to ``focusedroom.background.after_response``, so it leaves after the transaction
commits (nothing for a change that rolls back) and after the response (a request that sends an
email answers as fast as one that does not: no account enumeration by timing, no SMTP latency).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string

from focusedroom.background import after_response


def render_templated_email(*, to: str, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    """``emails/<template>.txt`` and ``emails/<template>.html`` as one message."""
    context = {"site_url": settings.SITE_URL, **context}
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    return message


def send_templated_email(*, to: str, subject: str, template: str, context: dict) -> None:
    """Render and send now, in this thread (commands; the background tasks)."""
    render_templated_email(to=to, subject=subject, template=template, context=context).send()


def send_templated_email_later(*, to: str, subject: str, template: str, context: dict) -> None:
    """Render and send after the commit, in the background: the way requests send email."""
    after_response(lambda: send_templated_email(to=to, subject=subject, template=template, context=context))


def deliver_later(message: EmailMessage) -> None:
    """Send an already built message after the commit, in the background (Django's password-reset email)."""
    after_response(message.send)
