"""The real server's read deadlines: a request whose headers or body come too slowly is
answered 408 and its connection closed, however many there are; others are served."""

from __future__ import annotations

import socket
import time

import pytest
from serve_helpers import FAST, free_port, serving

from inpaint_toolkit.serve.app import create_app
from inpaint_toolkit.serve.server import ReadDeadlines


class QuickDeadlines(ReadDeadlines):
    header_seconds = 0.5
    body_seconds = 1.0


@pytest.fixture
def port(tiny_checkpoint):
    sock = free_port()
    port = sock.getsockname()[1]
    with serving(create_app(tiny_checkpoint, defaults=FAST, port=port), sock, http=QuickDeadlines):
        yield port


def connect(port: int, data: bytes = b"") -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(data)
    return conn


def answer(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    parts = []
    while chunk := conn.recv(65536):
        parts.append(chunk)
    conn.close()
    return b"".join(parts)


def one_response(conn: socket.socket) -> bytes:
    """One response's head, on a connection kept open (the body is read and dropped)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    (length,) = (line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length"))
    while len(body) < int(length.split(b":")[1]):
        body += conn.recv(65536)
    return head


def request(port: int) -> bytes:
    return f"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def test_forty_slow_connections_are_all_closed_in_time(port):
    upload = f"POST /api/images HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000\r\n\r\n"
    began = time.monotonic()
    silent = [connect(port) for _ in range(10)]
    slow_headers = [connect(port, request(port)[:20]) for _ in range(15)]
    slow_bodies = [connect(port, upload.encode() + b"\x89PNG") for _ in range(15)]
    for conn in silent + slow_headers:
        reply = answer(conn)
        assert reply.startswith(b"HTTP/1.1 408 ") and b"headers did not arrive" in reply
    for conn in slow_bodies:
        reply = answer(conn)
        assert reply.startswith(b"HTTP/1.1 408 ") and b"body did not arrive within 1 s" in reply
    assert time.monotonic() - began < 5
    assert answer(connect(port, request(port)[:-2] + b"Connection: close\r\n\r\n")).startswith(
        b"HTTP/1.1 200 "
    )


def test_a_trickled_body_is_cut_off_at_its_deadline(port):
    head = f"POST /api/images HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000\r\n\r\n"
    conn = connect(port, head.encode())
    began = time.monotonic()
    with pytest.raises(OSError):  # the server closes it while a byte still comes every 0.1 s
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.1)
    assert time.monotonic() - began < 3
    conn.close()


def test_a_kept_alive_connection_may_idle_between_requests(port):
    conn = connect(port, request(port))
    assert one_response(conn).startswith(b"HTTP/1.1 200 ")
    time.sleep(0.8)  # past the header deadline: the wait between requests is keep-alive's
    conn.sendall(request(port)[:-2] + b"Connection: close\r\n\r\n")
    assert answer(conn).startswith(b"HTTP/1.1 200 ")
