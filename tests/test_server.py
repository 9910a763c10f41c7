"""The server under slow, stuck and overwhelming clients: a real `hazardjudge serve` on loopback.

The deadlines below bound how long a test may wait for the server to act; none asserts
how fast it was.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from hazardjudge.service import server

BODY = json.dumps({"facts": {"gas.license_held": False}, "sectors": ["city_gas"], "date": "2026-11-01"}).encode()
HEAD = b"POST /api/judge HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)
WAIT = 90  # seconds any one step may take on a loaded machine before the test gives up


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _judge(port: int) -> tuple[int, str | None]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/judge", data=BODY, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as r:
            assert json.loads(r.read())["verdict"]["outcome"] == "major"
            return r.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("retry-after")


@pytest.fixture
def serve():
    """Start `hazardjudge serve` with the given options; yield (process, port); stop it after."""
    procs = []

    def start(*options: str) -> tuple[subprocess.Popen, int]:
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "hazardjudge.cli", "serve", "--port", str(port), *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        deadline = time.time() + WAIT
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5):
                    return proc, port
            except OSError:
                assert proc.poll() is None, "the server exited"
                time.sleep(0.3)
        raise AssertionError("the server did not start")

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(WAIT)


def _hold(sockets: list[socket.socket], trickle: bytes) -> dict[int, bytes]:
    """Keep trickling one byte at a time to each socket until the server closes them all.

    Returns what each socket received before it was closed.
    """
    received: dict[int, bytes] = {}
    deadline = time.time() + WAIT
    while len(received) < len(sockets) and time.time() < deadline:
        for i, s in enumerate(sockets):
            if i in received:
                continue
            try:
                data = s.recv(4096)
                received[i] = data
            except BlockingIOError:
                try:
                    s.send(trickle)
                except OSError:
                    received[i] = b""
            except OSError:
                received[i] = b""
        time.sleep(0.2)
    return received


def _open(port: int, first: bytes, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(first)
        s.setblocking(False)
        sockets.append(s)
    return sockets


def test_slow_loris_headers_neither_starve_the_worker_nor_stay_open(serve):
    proc, port = serve("--request-timeout", "3")
    sockets = _open(port, b"POST /api/judge HTTP/1.1\r\nHost: t\r\n", 200)  # headers, a byte at a time
    try:
        # Beyond uvicorn's own limit (it counted connections) these 200 sockets made every request a 503.
        assert _judge(port) == (200, None)
        received = _hold(sockets, b"X")
    finally:
        for s in sockets:
            s.close()
    assert len(received) == 200, "some slow sockets were never closed"
    assert all(data.startswith(b"HTTP/1.1 408") for data in received.values())
    assert _judge(port) == (200, None)


def test_a_trickled_body_holds_no_place_in_the_concurrency_limit(serve):
    proc, port = serve("--request-timeout", "3", "--limit-concurrency", "2")
    sockets = _open(port, HEAD + BODY[:5], 20)  # 20 bodies against 2 places
    try:
        assert _judge(port) == (200, None)
        received = _hold(sockets, b" ")
    finally:
        for s in sockets:
            s.close()
    assert len(received) == 20 and all(data.startswith(b"HTTP/1.1 408") for data in received.values())


def test_beyond_the_connection_cap_a_new_socket_is_refused_with_retry_after(serve):
    proc, port = serve("--max-connections", "5", "--request-timeout", "30")
    held = _open(port, b"", 5)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as extra:
            answer = extra.recv(4096)
        assert answer.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in answer
        assert "服务繁忙" in answer.decode("utf-8")
    finally:
        for s in held:
            s.close()
    deadline = time.time() + WAIT
    while _judge(port)[0] != 200 and time.time() < deadline:  # the held sockets' closing reaches the server
        time.sleep(0.2)
    assert _judge(port) == (200, None)


def test_sigterm_lets_the_request_in_flight_finish(serve):
    proc, port = serve()
    conn = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    conn.sendall(HEAD + BODY[:10])  # a request under way
    time.sleep(0.5)  # let the server read the head (ordering only; nothing below depends on speed)
    proc.send_signal(signal.SIGTERM)
    # Shutting down, the server accepts nothing new ...
    deadline = time.time() + WAIT
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            time.sleep(0.2)
        except OSError:
            break
    else:
        raise AssertionError("the server kept accepting connections after SIGTERM")
    # ... but the request it had begun is answered.
    conn.sendall(BODY[10:])
    response = b""
    while chunk := conn.recv(65536):
        response += chunk
    conn.close()
    assert response.startswith(b"HTTP/1.1 200")
    assert b'"outcome":"major"' in response
    proc.wait(WAIT)


def test_the_guard_answers_503_with_retry_after_beyond_the_limit():
    release = asyncio.Event()
    entered = []

    async def app(scope, receive, send):
        entered.append(scope["path"])
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    guard = server.Guard(app, limit=2)

    async def call(path: str) -> list[dict]:
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await guard({"type": "http", "path": path, "headers": []}, receive, send)
        return sent

    async def scenario():
        busy = [asyncio.create_task(call(f"/{i}")) for i in range(2)]
        while len(entered) < 2:
            await asyncio.sleep(0)
        refused = await call("/extra")
        release.set()
        return refused, [await t for t in busy]

    refused, served = asyncio.run(scenario())
    assert refused[0]["status"] == 503 and (b"retry-after", b"1") in refused[0]["headers"]
    assert "服务繁忙" in refused[1]["body"].decode("utf-8")
    assert [s[0]["status"] for s in served] == [200, 200] and guard.active == 0


def test_the_guard_reads_a_body_before_the_app_sees_the_request():
    seen = []

    async def app(scope, receive, send):
        seen.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    parts = iter([{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.request", "body": b"c", "more_body": False}])

    async def receive():
        return next(parts)

    async def send(message):
        pass

    asyncio.run(server.Guard(app)({"type": "http", "headers": [(b"content-length", b"3")]}, receive, send))
    assert seen == [{"type": "http.request", "body": b"abc", "more_body": False}]


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_binding_beyond_loopback_is_announced(monkeypatch, capsys, host, warned):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    server.serve(host=host, engine=__import__("hazardjudge").load())
    assert ("本机以外也能访问" in capsys.readouterr().err) is warned
    assert calls[0]["host"] == host and calls[0]["limit_concurrency"] is None


@pytest.mark.parametrize("option", [["--request-timeout", "0"], ["--max-connections", "0"], ["--limit-concurrency", "-1"], ["--workers", "0"]])
def test_serve_options_out_of_range_are_usage_errors(option, capsys):
    from hazardjudge.cli import main

    assert main(["serve", *option]) == 64
    assert "须为" in capsys.readouterr().err


def test_responses_are_not_held_back_by_nagles_algorithm():
    """The listening socket uvicorn binds for several workers has protocol number 0, and asyncio
    then leaves Nagle's algorithm on: each response waited 40 ms for the client's delayed ACK."""
    import uvicorn
    from uvicorn.server import ServerState

    config = uvicorn.Config(app=lambda scope, receive, send: None, http=server.protocol())
    config.load()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn binds it
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()

    class Transport:
        def get_extra_info(self, name, default=None):
            return {"socket": accepted, "peername": accepted.getpeername(), "sockname": accepted.getsockname()}.get(name, default)

        def is_closing(self):
            return False

        def close(self):
            pass

    try:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        proto = config.http_protocol_class(config=config, server_state=ServerState(), app_state={}, _loop=asyncio.new_event_loop())
        proto.connection_made(Transport())
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        proto._disarm()
    finally:
        for s in (client, accepted, listener):
            s.close()
