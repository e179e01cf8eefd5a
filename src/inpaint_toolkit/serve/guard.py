"""The server's outer layer, in front of every route: who may talk to it, how much.

- **Host**: the Host header must name the address the server is bound to (or
  ``127.0.0.1``/``localhost`` with its port). A web page elsewhere that re-points its
  own domain name at 127.0.0.1 (DNS rebinding) sends its own name, and is refused (400).
- **Origin**: a request that a browser marks as coming from another site (an ``Origin``
  that is not this server, or ``Sec-Fetch-Site: cross-site`` other than following a
  link to the page) is refused (403), so another page can neither start jobs here nor
  show the results in its own page. No CORS headers are ever sent.
- **Size**: a body larger than ``max_body`` is refused with 413: at once where
  Content-Length says so, and otherwise as soon as the streamed bytes pass the limit;
  the body is never read further than that.
- **Headers** on every response: ``X-Content-Type-Options: nosniff``, a Content-Security-
  Policy that allows this server's own files only (no inline script, no other origin),
  no framing, no referrer, and ``Cache-Control: no-store`` for the API.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host header values accepted for a server bound to ``host:port``."""
    names = {"127.0.0.1", "localhost", host, *extra}
    hosts = set()
    for name in names:
        name = name.lower()
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"  # an IPv6 address, as a Host header spells it
        hosts.add(f"{name}:{port}")
        if port == 80:
            hosts.add(name)
    return frozenset(hosts)


class Guard:
    """ASGI middleware applying the checks above to every HTTP request."""

    def __init__(self, app: ASGIApp, *, hosts: frozenset[str], max_body: int):
        self.app = app
        self.hosts = hosts
        self.origins = frozenset(f"http://{host}" for host in hosts)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websockets here
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            await _refuse(
                send,
                400,
                f"Host {host!r} is not a name this server answers to; open it by its address "
                "(or start it with --allow-host NAME)",
            )
            return
        origin = headers.get("origin")
        # A link from another site to the page itself is fine; anything else it sends is not.
        navigating = scope["method"] == "GET" and headers.get("sec-fetch-mode") == "navigate"
        cross_site = headers.get("sec-fetch-site") == "cross-site" and not navigating
        if (origin is not None and origin.lower() not in self.origins) or cross_site:
            await _refuse(send, 403, "requests from other web pages are refused")
            return
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                await _refuse(send, 400, "Content-Length is not a number")
                return
            if int(length) > self.max_body:
                await _refuse(send, 413, self._too_large())
                return
        body = await self._read_body(receive)
        if body is None:
            await _refuse(send, 413, self._too_large())
            return
        await self.app(scope, _replay(body, receive), _with_headers(scope, send))

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes ``max_body`` (the rest is not read)."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(parts)

    def _too_large(self) -> str:
        return f"the request is over the server's limit of {self.max_body / 2**20:g} MiB"


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as usual

    return replayed


def _with_headers(scope: Scope, send: Send) -> Send:
    api = scope.get("path", "").startswith("/api/")

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.extend(SECURITY_HEADERS)
            if api:
                headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)

    return sending


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *SECURITY_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
