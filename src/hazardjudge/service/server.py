"""The server around the app: what a slow, stuck or overwhelming client may hold, and for how long.

uvicorn bounds the idle time between requests (keep-alive) and the size of the request
head (h11's incomplete-event limit), but not how long a request may take to arrive: 200
sockets sending their headers a byte at a time stayed open indefinitely, and its own
concurrency limit counts *connections*, so those same sockets made every real request a
503. Here:

* :class:`GuardedH11Protocol` gives each request ``request_timeout`` seconds from its
  first byte (a new connection from its opening) to arrive whole, head and body, and
  answers 408 and closes otherwise; beyond ``max_connections`` open sockets a new one is
  answered 503 and closed at once, so a flood costs sockets, not workers;
* :class:`Guard` counts the requests the worker is *working on* — a body is read whole
  before the request counts, so a trickled body holds no place — and answers 503 with
  ``Retry-After`` beyond ``limit``;
* on SIGTERM uvicorn stops accepting, closes idle connections and gives the requests in
  flight ``timeout_graceful_shutdown`` seconds to finish.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from functools import partial
from typing import Any

import h11

from uvicorn.protocols.http.h11_impl import H11Protocol

from hazardjudge.engine.heap import settle

#: seconds a request may take to arrive, head and body (a 1 MiB body at 100 KiB/s takes 10 s)
REQUEST_TIMEOUT = 15.0
#: open sockets per worker process beyond which a new one is refused
MAX_CONNECTIONS = 1000
#: requests a worker process works on at once beyond which it answers 503
LIMIT_CONCURRENCY = 64
#: seconds a refused client is asked to wait
RETRY_AFTER = 1
#: read by app_from_environment() in each worker process: the bundle folders to load, the limit
BUNDLE_ENV = ("HAZARDJUDGE_CRITERIA", "HAZARDJUDGE_RULES")
LIMIT_ENV = "HAZARDJUDGE_LIMIT_CONCURRENCY"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
DB_ENV, SECRET_ENV = "HAZARDJUDGE_DB", "HAZARDJUDGE_SECRET"


def _register(url: str | None) -> Any:
    """The hazard register at ``url`` (schema created or upgraded), or None when no database is configured."""
    if not url:
        return None
    from sqlalchemy.exc import OperationalError

    from hazardjudge.errors import Problem
    from hazardjudge.register.errors import RegisterError
    from hazardjudge.register.store import Register

    try:
        return Register(url)
    except OperationalError as exc:
        # Said before the server starts listening, not as a traceback (or a 500 on the first request).
        reason = str(exc.orig).strip().splitlines()[0][:300] if exc.orig else ""
        raise RegisterError([Problem("register.db_unavailable", f"无法打开隐患台账数据库：{reason}", None)]) from None


def _json_body(error: str) -> bytes:
    return json.dumps({"error": error, "problems": []}, ensure_ascii=False).encode()


BUSY = _json_body("服务繁忙，请稍后重试")


def _raw_response(status: str, body: bytes, extra: str = "") -> bytes:
    """A whole response written straight to a socket that is then closed (no request cycle to answer in)."""
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {len(body)}\r\n"
        f"x-content-type-options: nosniff\r\nconnection: close\r\n{extra}\r\n"
    )
    return head.encode("ascii") + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request to arrive and a cap on open sockets."""

    def __init__(self, *args: Any, request_timeout: float = REQUEST_TIMEOUT, max_connections: int = MAX_CONNECTIONS, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.request_timeout = request_timeout
        self.max_connections = max_connections
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # asyncio turns Nagle's algorithm off only on sockets whose protocol number says TCP;
        # the listening socket uvicorn binds for several workers says 0, so every response
        # (head and body written apart) waited for the client's delayed ACK: 40 ms a request.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if len(self.connections) > self.max_connections:
            transport.write(_raw_response("503 Service Unavailable", BUSY, f"retry-after: {RETRY_AFTER}\r\n"))
            transport.close()
            return
        self._arm()  # a socket opened and left silent is a request that never arrives

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self._arm()  # the first byte of a request starts its clock; later bytes do not reset it
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        # Between requests the keep-alive timeout applies; a body still coming after an early
        # answer (a 413, say) is bounded again by its next byte.
        self._disarm()
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        if self.transport.is_closing() or self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # the request is all here: handling it is the server's time, not the client's

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE) and (self.cycle is None or not self.cycle.response_started):
            body = _json_body(f"请求超时：须在 {self.request_timeout:g} 秒内发送完整的请求")
            self.transport.write(_raw_response("408 Request Timeout", body))
        self.transport.close()  # an app waiting for the rest of the body is told the client left


def protocol(request_timeout: float = REQUEST_TIMEOUT, max_connections: int = MAX_CONNECTIONS):
    """The protocol class for uvicorn's ``http`` option (a partial: it pickles into worker processes)."""
    return partial(GuardedH11Protocol, request_timeout=request_timeout, max_connections=max_connections)


class Guard:
    """ASGI wrapper: at most ``limit`` requests in the app at once, each with its body already read."""

    def __init__(self, app: Any, limit: int = LIMIT_CONCURRENCY, max_body: int = 1024 * 1024):
        self.app = app
        self.limit = limit
        self.max_body = max_body
        self.active = 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and 0 < int(length) <= self.max_body:
            # Read the body before the request takes a place: a client trickling it holds only
            # its socket (bounded by the protocol's deadline), never one of the worker's places.
            chunks = []
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            receive = _replay(b"".join(chunks), receive)
        # Any other request (no body, or one the app refuses unread: too large, no length) goes straight on.
        if self.active >= self.limit:
            await send({"type": "http.response.start", "status": 503, "headers": [
                (b"content-type", b"application/json; charset=utf-8"), (b"retry-after", str(RETRY_AFTER).encode()),
                (b"x-content-type-options", b"nosniff"),
            ]})
            await send({"type": "http.response.body", "body": BUSY})
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


def _replay(body: bytes, receive: Any):
    """The body already read, as one message; after it, the connection's own messages (a disconnect)."""
    sent = False

    async def again() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def app_from_environment() -> Guard:
    """The app for one worker process (uvicorn's factory): each loads the bundle itself."""
    from hazardjudge.api import load
    from hazardjudge.service.app import create_app

    criteria, rules = (os.environ.get(name) or None for name in BUNDLE_ENV)
    register = _register(os.environ.get(DB_ENV) or None)
    app = Guard(create_app(load(criteria, rules), register=register), int(os.environ.get(LIMIT_ENV) or LIMIT_CONCURRENCY))
    settle()  # a server process from here on: the collector leaves the loaded bundle alone
    return app


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    engine: Any = None,
    workers: int = 1,
    bundle: tuple[str | None, str | None] = (None, None),
    limit_concurrency: int = LIMIT_CONCURRENCY,
    request_timeout: float = REQUEST_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    db: str | None = None,
) -> None:
    """Serve on ``host:port``.

    One process holds one engine (the C core holds the GIL, so threads add no speed): more
    workers are processes, each loading the bundle, sharing nothing. Idle keep-alive
    connections close after 5 s; on shutdown requests in flight get 10 s to finish.
    """
    import uvicorn

    from hazardjudge.service.app import create_app

    if host not in LOOPBACK:
        print(
            f"注意：服务监听 {host}，本机以外也能访问；判定接口没有登录和权限控制（台账接口和网页须登录），请只在受信任的网络中使用。",
            file=sys.stderr,
        )
    if db and not os.environ.get(SECRET_ENV):
        import secrets

        print(f"注意：未设置 {SECRET_ENV}，本次启动随机生成签名密钥：服务重启后所有登录都将失效。", file=sys.stderr)
        # One secret for every worker process of this server (they inherit the environment).
        os.environ[SECRET_ENV] = secrets.token_urlsafe(32)
    options: dict[str, Any] = dict(
        host=host, port=port, log_level="info", server_header=False,
        http=protocol(request_timeout, max_connections),
        limit_concurrency=None,  # uvicorn's counts connections: the Guard counts work instead
        timeout_keep_alive=5, timeout_graceful_shutdown=10,
    )
    if workers <= 1:
        app = Guard(create_app(engine, register=_register(db)), limit_concurrency)
        settle()  # a server process from here on: the collector leaves the loaded bundle alone
        uvicorn.run(app, **options)
        return
    for name, value in zip(BUNDLE_ENV, bundle):
        if value:
            os.environ[name] = str(value)
    os.environ[LIMIT_ENV] = str(limit_concurrency)
    if db:
        os.environ[DB_ENV] = db
        _register(db).dispose()  # create or upgrade the schema once, before the workers race to
    uvicorn.run("hazardjudge.service.server:app_from_environment", factory=True, workers=workers, **options)
