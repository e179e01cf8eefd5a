"""Running the application: uvicorn, with deadlines on reading every request.

uvicorn closes a connection that idles between requests (``timeout_keep_alive``), but it
waits for ever on one that sends a request slowly: a client could hold connections open
by sending a byte of its headers, or of its body, now and then. :class:`ReadDeadlines`
gives each request's headers, and then its body, a deadline; a request that misses one
is answered 408 and its connection closed.

The body's deadline grows with the size it declares, so a large upload on a slow network
still arrives, while a small body trickled a byte at a time does not hold a connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from inpaint_toolkit.serve.settings import Limits

# A browser sends its headers at once; a body gets a few seconds, and one more for each
# MiB (the largest, 50 MiB, takes well under a second on this machine).
HEADER_SECONDS = 5.0
BODY_SECONDS = 5.0
BODY_BYTES_PER_SECOND = 2**20
KEEP_ALIVE_SECONDS = 5  # uvicorn's default, said here: the wait between two requests


class ReadDeadlines(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with a deadline for each request's headers (from
    the connection's start, or the request's first byte) and then for its body (from the
    end of the headers: ``body_seconds``, and a second more per MiB it declares)."""

    header_seconds = HEADER_SECONDS
    body_seconds = BODY_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:
        self._waiting_for: str | None = None
        self._deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Start the deadline of what the request still owes; stop it once it is in."""
        state = self.conn.their_state
        if state is h11.IDLE:
            self._start_deadline("headers", self.header_seconds)
        elif state is h11.SEND_BODY:
            length = dict(self.headers).get(b"content-length", b"")
            size = int(length) if length.isdigit() else Limits().max_body  # chunked
            self._start_deadline("body", self.body_seconds + size / BODY_BYTES_PER_SECOND)
        else:  # the request is in (or the connection is ending): the app has it now
            self._stop_deadline()

    def _start_deadline(self, part: str, seconds: float) -> None:
        if self._waiting_for != part:
            self._stop_deadline()
            self._waiting_for = part
            self._deadline = self.loop.call_later(seconds, self._too_slow, part, seconds)

    def _stop_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._waiting_for = None, None

    def _too_slow(self, part: str, seconds: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            message = f"the request's {part} did not arrive within {seconds:.3g} s".encode()
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(message), message)
            )
        self.transport.close()


def server_options(host: str, port: int) -> dict[str, Any]:
    """uvicorn's settings for the page's server."""
    return {
        "host": host,
        "port": port,
        "http": ReadDeadlines,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "log_level": "warning",
        "server_header": False,
        "proxy_headers": False,
    }


def run_server(app: Any, host: str, port: int) -> None:
    """Serve ``app`` on ``host:port`` until Ctrl+C."""
    uvicorn.run(app, **server_options(host, port))
