"""Settings for the test suite: the normal settings with ``DJANGO_ENV=test``."""

import os

os.environ["DJANGO_ENV"] = "test"

from focusedroom.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing in tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS_EAGER = True  # deferred tasks run at commit time; engine tests defer for real and drain with run_jobs
# Tests open connections in threads and drop the test database at the end: no connection outlives its request.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Tests that need Redis ask for it (the ``with_redis`` fixture: a db and a key prefix of their own).
REDIS_URL = ""
EXPOSURE_BUFFER = "sync"
