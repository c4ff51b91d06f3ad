"""Work that runs after the response: ``after_response(fn)``.

``fn`` runs once the current transaction commits (never for a change that rolls back), on a
small pool of background threads, so the request answers without waiting for it — an email to
send, or work whose duration would tell an attacker something (whether an address has an
account). Each task gets its own database connection, closed when it ends.

``BACKGROUND_MODE = "inline"`` (the test suite) runs the task at commit time in the calling
thread instead. FocusedRoom has no task engine yet; this is the one place to hand such work to
one later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)

THREAD_PREFIX = "fr-background"
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def after_response(fn: Callable[[], object]) -> None:
    """Run ``fn`` after the commit, in the background (see the module docstring)."""
    transaction.on_commit(lambda: _submit(fn), robust=True)


def _run(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:
        logger.exception("background task %s failed", getattr(fn, "__qualname__", fn))
    finally:
        if threading.current_thread().name.startswith(THREAD_PREFIX):
            connections.close_all()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=settings.BACKGROUND_THREADS, thread_name_prefix=THREAD_PREFIX)
        return _executor


def _submit(fn: Callable[[], object]) -> Future | None:
    if settings.BACKGROUND_MODE == "inline":
        _run(fn)
        return None
    return _pool().submit(_run, fn)


def wait_for_background_tasks() -> None:
    """Block until every task handed to the pool so far has finished (tests, graceful shutdown)."""
    global _executor
    with _lock:
        pool, _executor = _executor, None
    if pool is not None:
        pool.shutdown(wait=True)
