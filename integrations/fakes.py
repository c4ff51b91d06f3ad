"""Local stand-ins for Customer.io's Track API and Kit's API v4, for tests and benchmarks.

Each fake is a real HTTP server on 127.0.0.1 (``http.server`` in a thread) that speaks
the service's protocol, checks its authentication, records every request and answers
as told: ``fake.script(200, 429, 500, "hang")`` queues the next answers, ``fake.default``
answers the rest. ``"hang"`` holds the connection until the client gives up.

Like Customer.io with event ids, the fakes deduplicate by idempotency key: a request whose
``Idempotency-Key`` was already applied (answered 2xx) is answered 200 and changes nothing
(``applied_keys`` counts the applied requests per key, ``replayed_keys`` the answered replays).
``reply_delay`` applies a request and then waits that long before answering: a client killed
meanwhile never learns that its request took effect.

    with FakeCustomerIO(site_id="site", api_key="key") as cio:
        settings.CUSTOMERIO_TRACK_URL = cio.url
        ...
        assert cio.requests[0].path == "/customers/42"
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int | str = 0

    @property
    def json(self) -> Any:
        return self.body


@dataclass
class _State:
    requests: list[RecordedRequest] = field(default_factory=list)
    script: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)


class FakeServer:
    """Base: routing, recording and scripted answers. Subclasses implement ``handle``."""

    hang_seconds = 30.0

    def __init__(self, *, record: bool = True):
        self.default: int | str = 200
        self.record = record
        self.reply_delay = 0.0
        self.applied_keys: Counter[str] = Counter()
        self.replayed_keys: Counter[str] = Counter()
        self.in_flight: set[int] = set()  # client ports of applied requests whose answer is delayed
        self._state = _State()
        self.count = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Answer at once: headers and body are separate writes, which Nagle's
                # algorithm would otherwise hold back for a delayed ACK.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):  # quiet
                return

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                fake._serve(self, body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- life cycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.release.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- control
    def script(self, *answers: int | str) -> None:
        with self._state.lock:
            self._state.script.extend(answers)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def clear(self) -> None:
        with self._state.lock:
            self._state.requests.clear()
            self.count = 0

    # -- serving
    def _serve(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        with self._state.lock:
            answer = self._state.script.popleft() if self._state.script else self.default
            self.count += 1
            recorded = RecordedRequest(handler.command, handler.path, dict(handler.headers.items()), body, answer)
            if self.record:
                self._state.requests.append(recorded)
        if answer == "hang":
            self._state.release.wait(self.hang_seconds)
            return
        auth_error = self.check_auth(handler)
        if auth_error:
            recorded.status = 401
            self._reply(handler, 401, {"errors": [{"message": auth_error}]})
            return
        if answer != 200:
            self._reply(handler, int(answer), {"errors": [{"message": f"scripted {answer}"}]})
            return
        key = handler.headers.get("Idempotency-Key") or ""
        with self._state.lock:
            replay = bool(key) and key in self.applied_keys
            if replay:
                self.replayed_keys[key] += 1
                status, payload = 200, {}
            else:
                status, payload = self.handle(handler.command, handler.path, body)
                if key and 200 <= status < 300:
                    self.applied_keys[key] += 1
        recorded.status = status
        if self.reply_delay and not replay:
            port = handler.client_address[1]
            self.in_flight.add(port)
            try:
                self._state.release.wait(self.reply_delay)
            finally:
                self.in_flight.discard(port)
        self._reply(handler, status, payload)

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up or was killed
            handler.close_connection = True

    def check_auth(self, handler: BaseHTTPRequestHandler) -> str:
        return ""

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        raise NotImplementedError


class FakeCustomerIO(FakeServer):
    """Customer.io Track API v1: basic auth with a site id and API key."""

    _customer = re.compile(r"^/customers/(?P<id>[^/]+)(?P<events>/events)?$")

    def __init__(self, *, site_id: str = "site-id", api_key: str = "api-key", **kwargs):
        super().__init__(**kwargs)
        self.expected = "Basic " + base64.b64encode(f"{site_id}:{api_key}".encode()).decode()
        self.customers: dict[str, dict] = {}
        self.events: list[tuple[str | None, str, dict]] = []

    def check_auth(self, handler) -> str:
        return "" if handler.headers.get("Authorization") == self.expected else "Unauthorized request"

    def handle(self, method, path, body):
        if method == "POST" and path == "/events":
            if not isinstance(body, dict) or not body.get("name"):
                return 400, {"meta": {"error": "name is required"}}
            self.events.append((None, body["name"], body.get("data") or {}))
            return 200, {}
        match = self._customer.match(path)
        if not match:
            return 404, {"meta": {"error": "not found"}}
        customer_id = match["id"]
        if match["events"]:
            if method != "POST":
                return 405, None
            if not isinstance(body, dict) or not body.get("name"):
                return 400, {"meta": {"error": "name is required"}}
            self.events.append((customer_id, body["name"], body.get("data") or {}))
            return 200, {}
        if method == "PUT":
            if not isinstance(body, dict):
                return 400, {"meta": {"error": "attributes must be an object"}}
            self.customers.setdefault(customer_id, {}).update(body)
            return 200, {}
        if method == "DELETE":
            self.customers.pop(customer_id, None)
            return 200, {}
        return 405, None


class FakeKit(FakeServer):
    """Kit API v4: ``X-Kit-Api-Key``; subscribers are upserted by email."""

    _unsubscribe = re.compile(r"^/v4/subscribers/(?P<id>\d+)/unsubscribe$")
    _tag_subscribers = re.compile(r"^/v4/tags/(?P<id>\d+)/subscribers$")

    def __init__(self, *, api_key: str = "kit-key", **kwargs):
        super().__init__(**kwargs)
        self.api_key = api_key
        self.subscribers: dict[str, dict] = {}  # email -> subscriber
        self.tags: dict[str, int] = {}  # name -> id
        self.tagged: dict[str, set[str]] = {}  # tag name -> emails
        self._next_id = 1000

    def check_auth(self, handler) -> str:
        return "" if handler.headers.get("X-Kit-Api-Key") == self.api_key else "The access token is invalid"

    def handle(self, method, path, body):
        if method == "POST" and path == "/v4/subscribers":
            if not isinstance(body, dict) or "@" not in str(body.get("email_address", "")):
                return 422, {"errors": ["Email address is invalid"]}
            email = body["email_address"].lower()
            created = email not in self.subscribers
            if created:
                self._next_id += 1
                self.subscribers[email] = {"id": self._next_id, "email_address": email}
            subscriber = self.subscribers[email]
            subscriber.update(state=body.get("state", "active"), first_name=body.get("first_name"))
            return (201 if created else 200), {"subscriber": subscriber}
        if method == "POST" and path == "/v4/tags":
            if not isinstance(body, dict) or not str(body.get("name", "")).strip():
                return 422, {"errors": ["Name can't be blank"]}
            created = body["name"] not in self.tags
            if created:
                self._next_id += 1
                self.tags[body["name"]] = self._next_id
            return (201 if created else 200), {"tag": {"id": self.tags[body["name"]], "name": body["name"]}}
        match = self._tag_subscribers.match(path)
        if match and method in ("POST", "DELETE"):
            names = [name for name, tag_id in self.tags.items() if str(tag_id) == match["id"]]
            email = str((body or {}).get("email_address", "")).lower() if isinstance(body, dict) else ""
            if not names:
                return 404, {"errors": ["Not Found"]}
            if email not in self.subscribers:
                return 404, {"errors": ["Subscriber not found"]}
            emails = self.tagged.setdefault(names[0], set())
            if method == "POST":
                emails.add(email)
                return 201, {"subscriber": self.subscribers[email]}
            emails.discard(email)
            return 204, None
        match = self._unsubscribe.match(path)
        if method == "POST" and match:
            for subscriber in self.subscribers.values():
                if str(subscriber["id"]) == match["id"]:
                    subscriber["state"] = "cancelled"
                    return 200, {}
            return 404, {"errors": ["Not Found"]}
        return 404, {"errors": ["Not Found"]}
