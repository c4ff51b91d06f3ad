"""Templated email with HTML and text parts through Django's email backend.

Requests never send email themselves: ``send_templated_email_later`` and ``deliver_later`` render
the message and queue it as a ``focusedroom.send_email`` job **in the current transaction** (the
job exists only if the change it follows commits), and a task worker sends it. The request answers
as fast as one that sends nothing (no SMTP latency; no account enumeration by timing) and a failed
send is retried by the engine. The job carries the message encrypted with the field-encryption
keys (``focusedroom.fields``): emailed links are secrets, and the job table never holds one in clear.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string

from focusedroom.fields import decrypt_value, encrypt_value
from focusedroom.tasks import defer


def render_templated_email(*, to: str, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    """``emails/<template>.txt`` and ``emails/<template>.html`` as one message."""
    context = {"site_url": settings.SITE_URL, **context}
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    return message


def send_templated_email(*, to: str, subject: str, template: str, context: dict) -> None:
    """Render and send now, in this thread (commands; tasks)."""
    render_templated_email(to=to, subject=subject, template=template, context=context).send()


def send_templated_email_later(*, to: str, subject: str, template: str, context: dict) -> None:
    """Render now, send from a worker after the commit: the way requests send email."""
    deliver_later(render_templated_email(to=to, subject=subject, template=template, context=context))


def deliver_later(message: EmailMessage) -> None:
    """Queue an already built message (Django's password-reset email, …) for a worker, after the commit."""
    defer("focusedroom.send_email", message=seal_message(message))


def seal_message(message: EmailMessage) -> str:
    """The message as one encrypted, JSON-serialisable token (what a ``send_email`` job carries)."""
    data = {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "alternatives": [[content, mimetype] for content, mimetype in getattr(message, "alternatives", [])],
    }
    return encrypt_value(json.dumps(data))


def open_message(token: str) -> EmailMultiAlternatives:
    """The message ``seal_message`` sealed."""
    data = json.loads(decrypt_value(token))
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    return message


def send_sealed(*, message: str) -> None:
    """Send a sealed message now (the ``focusedroom.send_email`` task)."""
    open_message(message).send()
