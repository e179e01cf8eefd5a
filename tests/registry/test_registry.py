"""The plugin registry: built-ins, real entry-point loading, conflicts, blocking, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.specs import KINDS, PluginSpec
from inpaint_toolkit.registry import hookimpl
from inpaint_toolkit.registry.manager import Registry, create_plugin_manager, get_registry

DATA = Path(__file__).parent / "data"


@pytest.fixture
def third_party(monkeypatch: pytest.MonkeyPatch):
    """Put the fake distributions of ``data/<name>`` on the path, as if pip-installed."""

    def install(*names: str) -> None:
        for name in names:
            monkeypatch.syspath_prepend(str(DATA / name))
        get_registry.cache_clear()

    yield install
    get_registry.cache_clear()


def fresh_registry(**kwargs) -> Registry:
    return Registry(*create_plugin_manager(**kwargs))


def test_builtins_cover_every_kind_of_the_paper() -> None:
    registry = fresh_registry(load_entry_points=False)
    assert "dcgan" in registry.names("generator")
    assert "dcgan" in registry.names("discriminator")
    assert {"weighted_l1", "l1", "l2", "prior"} <= set(registry.names("loss"))
    assert {"adam", "nesterov"} <= set(registry.names("optimizer"))
    assert all(entry.source == "built-in" for entry in registry)


def test_entry_point_plugin_is_found_with_its_distribution(third_party) -> None:
    third_party("good")
    registry = fresh_registry()
    corner = registry.get("mask", "corner")
    assert corner.source == "inpaint-corner-plugin 0.1.0"
    assert corner.plugin == "corner"
    assert registry.get("loss", "tv").source == "inpaint-corner-plugin 0.1.0"


def test_entry_point_plugin_builds_and_validates_its_options(third_party) -> None:
    import torch

    third_party("good")
    registry = fresh_registry()
    mask = registry.build("mask", "corner", {"fraction": 0.25})
    damaged = mask(torch.zeros(2, 3, 64, 64), torch.Generator())
    assert damaged.known[:, :, :16, :16].sum() == 0
    assert damaged.known.sum() == 2 * (64 * 64 - 16 * 16)
    with pytest.raises(InpaintError, match="fraction"):
        registry.build("mask", "corner", {"fraction": 2})
    with pytest.raises(InpaintError, match="fractoin"):
        registry.build("mask", "corner", {"fractoin": 0.3})


def test_blocking_a_plugin_by_name(third_party) -> None:
    third_party("good")
    assert "corner" not in fresh_registry(blocked=["corner"]).names("mask")
    assert "prior" not in fresh_registry(blocked=["prior"], load_entry_points=False).names("loss")


def test_blocking_through_the_environment(third_party, monkeypatch) -> None:
    third_party("good")
    monkeypatch.setenv("INPAINT_TOOLKIT_BLOCK", "corner")
    get_registry.cache_clear()
    assert "corner" not in get_registry().names("mask")


def test_a_name_claimed_twice_names_both_sources() -> None:
    pm, sources = create_plugin_manager(load_entry_points=False)

    class Impostor:
        @hookimpl
        def inpaint_losses(self):
            return [PluginSpec("prior", object, description="another prior")]

    pm.register(Impostor(), name="impostor")
    sources["impostor"] = "impostor-dist 9.9"
    with pytest.raises(InpaintError) as caught:
        Registry(pm, sources)
    message = str(caught.value)
    assert "'prior'" in message and "built-in" in message and "impostor-dist 9.9" in message
    assert "\n" not in message


def test_broken_plugin_is_a_one_line_error_naming_it(third_party) -> None:
    third_party("broken")
    with pytest.raises(InpaintError) as caught:
        fresh_registry()
    message = str(caught.value)
    assert "'broken'" in message and "inpaint-broken-plugin" in message
    assert "a_module_that_does_not_exist" in message and "\n" not in message
    # ... and blocking it lets the toolkit work again.
    assert "dcgan" in fresh_registry(blocked=["broken"]).names("generator")


def test_misspelt_hook_is_an_error(third_party) -> None:
    third_party("misspelt")
    with pytest.raises(InpaintError, match="inpaint_mask"):
        fresh_registry()


def test_a_hook_returning_something_else_is_an_error() -> None:
    pm, sources = create_plugin_manager(load_entry_points=False)

    class Sloppy:
        @hookimpl
        def inpaint_masks(self):
            return ["center"]

    pm.register(Sloppy(), name="sloppy")
    with pytest.raises(InpaintError, match="sloppy.*not a PluginSpec"):
        Registry(pm, sources)


def test_unknown_name_lists_the_registered_ones() -> None:
    registry = fresh_registry(load_entry_points=False)
    with pytest.raises(InpaintError, match="unknown loss 'weighted_l3'.*weighted_l1"):
        registry.get("loss", "weighted_l3")


def test_every_hook_is_documented_in_docs() -> None:
    from inpaint_toolkit.registry import hookspecs
    from inpaint_toolkit.registry.manager import HOOK_OF_KIND

    assert set(HOOK_OF_KIND) == set(KINDS)
    docs = (Path(__file__).parents[2] / "docs" / "plugins.md").read_text()
    for hook in HOOK_OF_KIND.values():
        assert getattr(hookspecs, hook).__doc__, f"{hook} has no docstring"
        assert f"`{hook}`" in docs, f"{hook} is not documented in docs/plugins.md"


def test_plugins_command_lists_third_party_plugins(third_party, capsys) -> None:
    from inpaint_toolkit.cli import main

    third_party("good")
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert set(KINDS) <= set(listing)
    corner = next(entry for entry in listing["mask"] if entry["name"] == "corner")
    assert corner["source"] == "inpaint-corner-plugin 0.1.0"
    assert corner["options"]["fraction"]["default"] == 0.5
    assert main(["plugins"]) == 0
    assert "corner" in capsys.readouterr().out


def test_cli_reports_a_broken_plugin_in_one_line(third_party, capsys, monkeypatch) -> None:
    from inpaint_toolkit.cli import main

    third_party("broken")
    monkeypatch.setenv("INPAINT_TOOLKIT_BLOCK", "")  # --block below edits it; restore it after
    assert main(["plugins"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: plugin 'broken'") and "\n" not in err
    assert main(["--block", "broken", "plugins"]) == 0
