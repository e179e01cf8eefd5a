"""``inpaint-toolkit serve``'s command line: the address it binds and its warning."""

from __future__ import annotations

import pytest
import uvicorn

from inpaint_toolkit.cli import main
from inpaint_toolkit.cli.serve import is_loopback
from inpaint_toolkit.serve.guard import allowed_hosts
from inpaint_toolkit.serve.server import ReadDeadlines
from inpaint_toolkit.serve.store import BoundedStore


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("my-machine", False),
    ],
)
def test_loopback_addresses_are_told_apart(host, loopback):
    assert is_loopback(host) is loopback


@pytest.fixture
def started(monkeypatch) -> dict:
    calls: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.update(app=app, **options))
    return calls


def test_serve_binds_to_loopback_by_default_without_a_warning(tiny_checkpoint, started, capsys):
    assert main(["serve", "--checkpoint", str(tiny_checkpoint), "--port", "8123"]) == 0
    assert (started["host"], started["port"]) == ("127.0.0.1", 8123)
    assert started["http"] is ReadDeadlines  # slow requests are cut off
    captured = capsys.readouterr()
    assert "http://127.0.0.1:8123/" in captured.out and "warning" not in captured.err


def test_serve_warns_when_told_to_bind_elsewhere(tiny_checkpoint, started, capsys):
    args = ["serve", "--checkpoint", str(tiny_checkpoint), "--host", "0.0.0.0", "--iterations", "7"]
    assert main(args) == 0
    assert started["host"] == "0.0.0.0"
    assert "warning: binding to 0.0.0.0" in capsys.readouterr().err


def test_a_bad_default_setting_fails_at_start(tiny_checkpoint, started, capsys):
    code = main(["serve", "--checkpoint", str(tiny_checkpoint), "--samples", "9"])
    assert code == 2 and not started
    assert "samples: Input should be less than or equal to 8" in capsys.readouterr().err


def test_allowed_hosts_spell_ipv6_and_port_80_as_browsers_do():
    assert "[::1]:8000" in allowed_hosts("::1", 8000)
    assert {"localhost", "localhost:80"} <= allowed_hosts("127.0.0.1", 80)
    assert "evil.example:8000" not in allowed_hosts("127.0.0.1", 8000)


def test_the_store_forgets_the_least_recently_used():
    store: BoundedStore[int] = BoundedStore(2)
    first, second = store.add(1), store.add(2)
    assert store.get(first) == 1  # now the most recent
    store.add(3)
    assert store.get(second) is None and store.get(first) == 1 and len(store) == 2
