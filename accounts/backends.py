"""The authentication backend: Django's model backend behind the failed-log-in limits.

Every password check (member log-in page, console log-in page, API token) calls
``django.contrib.auth.authenticate``, which calls this backend with the request. When the
account or the client address has too many recent failures, the attempt is refused without
checking the password and ``request.login_retry_after`` tells the form or view how long to
wait, so it can say so clearly.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import throttles
from accounts.models import User
from focusedroom.context import client_ip


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if email is None or password is None:
            return None
        ip = client_ip(getattr(request, "_request", request)) if request is not None else None
        wait = throttles.login_retry_after(email=email, ip=ip)
        if wait:
            if request is not None:
                request.login_retry_after = wait
            raise PermissionDenied("Too many failed log-ins.")  # stops every backend: nothing is checked
        user = super().authenticate(request, username=email, password=password, **kwargs)
        if user is None:
            throttles.login_failed(email=email, ip=ip)
        else:
            throttles.login_succeeded(email=email)
        return user
