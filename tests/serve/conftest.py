"""Fixtures for the web server's tests: an app on the tiny models, photos and masks."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from serve_helpers import BASE_URL, FAST, PORT, TestClient, png_bytes

from inpaint_toolkit.serve.app import create_app


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()  # 512 x 512, public domain (NASA), ships with skimage


@pytest.fixture
def eye_stroke() -> np.ndarray:
    """A band of damage over the astronaut's eyes (512 x 512)."""
    damaged = np.zeros((512, 512), dtype=bool)
    damaged[95:112, 195:255] = True
    return damaged


@pytest.fixture
def make_client(tiny_checkpoint):
    """``make_client(**create_app keywords)``: a TestClient on the tiny models."""
    clients = []

    def make(**options) -> TestClient:
        options.setdefault("defaults", FAST)
        options.setdefault("port", PORT)
        client = TestClient(create_app(tiny_checkpoint, **options), base_url=BASE_URL)
        client.__enter__()  # runs the app's lifespan: its shutdown stops a running job
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def uploaded(client, astronaut) -> dict:
    response = client.post("/api/images", content=png_bytes(astronaut))
    assert response.status_code == 201, response.text
    return response.json()
