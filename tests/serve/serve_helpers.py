"""Helpers for the web server's tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import uvicorn
from PIL import Image

from inpaint_toolkit.serve.server import server_options

with warnings.catch_warnings():
    # Newer Starlette prefers the httpx2 package and warns about httpx; either works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PORT = 8000
BASE_URL = f"http://127.0.0.1:{PORT}"
FAST = {"iterations": 5, "restarts": 2, "samples": 2, "precision": "fp32"}


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def mask_b64(damaged: np.ndarray) -> str:
    """A mask as the page sends it: PNG, white = damaged, base64."""
    return base64.b64encode(png_bytes(np.where(damaged, 255, 0).astype(np.uint8))).decode()


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def wait_for(client: TestClient, job_id: str, timeout: float = 60.0) -> dict:
    """The job's status once it is no longer running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/api/jobs/{job_id}").json()
        if status["state"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def free_port() -> socket.socket:
    """A socket bound to a free port of 127.0.0.1, for :func:`serving`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(app, sock: socket.socket, **options) -> Iterator[str]:
    """``app`` served on ``sock`` in a thread, as ``inpaint-toolkit serve`` serves it
    (``options`` override uvicorn's settings); gives the base URL."""
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, **{**server_options("127.0.0.1", port), **options})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
