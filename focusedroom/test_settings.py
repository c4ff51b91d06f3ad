"""Settings for the test suite: the normal settings with ``DJANGO_ENV=test``."""

import os

os.environ["DJANGO_ENV"] = "test"

from focusedroom.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing in tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
BACKGROUND_MODE = "inline"  # after-response work runs at commit time: tests read mail.outbox right away
TASKS_EAGER = True  # deferred tasks run at commit time; engine tests defer for real and drain with run_jobs
