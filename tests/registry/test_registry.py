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


def test_a_name_claimed_twice_is_an_error_naming_both_sources_when_used(capsys) -> None:
    pm, sources, broken = create_plugin_manager(load_entry_points=False)

    class Impostor:
        @hookimpl
        def inpaint_losses(self):
            return [PluginSpec("prior", object, description="another prior")]

    pm.register(Impostor(), name="impostor")
    sources["impostor"] = "impostor-dist 9.9"
    registry = Registry(pm, sources, broken)
    warned = warning_lines(capsys)
    assert len(warned) == 1 and "'prior'" in warned[0] and "impostor-dist 9.9" in warned[0]
    with pytest.raises(InpaintError) as caught:
        registry.get("loss", "prior")
    message = str(caught.value)
    assert "'prior'" in message and "built-in" in message and "impostor-dist 9.9" in message
    assert "--block" in message and "\n" not in message
    assert "prior" not in registry.names("loss")
    assert registry.get("loss", "weighted_l1").source == "built-in"  # the rest still works


def test_two_distributions_claiming_one_name_fail_only_when_it_is_used(third_party, capsys):
    third_party("good", "clash")
    registry = fresh_registry()
    with pytest.raises(InpaintError) as caught:
        registry.get("mask", "corner")
    message = str(caught.value)
    assert "inpaint-corner-plugin 0.1.0" in message and "inpaint-clash-plugin 0.1.0" in message
    assert registry.get("mask", "diagonal").source == "inpaint-clash-plugin 0.1.0"
    assert registry.get("loss", "tv").source == "inpaint-corner-plugin 0.1.0"
    assert len(warning_lines(capsys)) == 1
    # Blocking either one settles it.
    assert fresh_registry(blocked=["clash"]).get("mask", "corner").plugin == "corner"


def warning_lines(capsys) -> list[str]:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert all(line.startswith("warning: ") for line in lines), err
    return lines


def assert_skipped_with_one_warning(registry: Registry, capsys, name: str, dist: str) -> str:
    """The plugin is listed as broken, warned about in one line, and nothing else broke."""
    (warned,) = warning_lines(capsys)
    assert warned.startswith(f"warning: plugin {name!r} ({dist} 0.1.0) is broken and skipped: ")
    blockable = "is taken by" not in warned  # blocking the name would block both
    assert (f"--block {name}" in warned and f"INPAINT_TOOLKIT_BLOCK={name}" in warned) == blockable
    (broken,) = registry.broken
    assert (broken.name, broken.source) == (name, f"{dist} 0.1.0")
    assert broken.reason in warned and "\n" not in broken.reason
    assert "dcgan" in registry.names("generator")
    assert {"center", "half", "file"} <= set(registry.names("mask"))
    assert registry.get("mask", "center").source == "built-in"
    return broken.reason


def test_a_plugin_that_fails_to_import_is_skipped_with_one_warning(third_party, capsys) -> None:
    third_party("broken", "good")
    registry = fresh_registry()
    reason = assert_skipped_with_one_warning(registry, capsys, "broken", "inpaint-broken-plugin")
    assert "ModuleNotFoundError" in reason and "a_module_that_does_not_exist" in reason
    assert registry.get("mask", "corner").source == "inpaint-corner-plugin 0.1.0"
    # It never said what it provides; the name it was installed under is the hint.
    with pytest.raises(InpaintError, match="'broken'.*which is broken: .*a_module_that_does_not"):
        registry.get("mask", "broken")
    with pytest.raises(InpaintError, match="unknown mask 'nothing'.*skipped as broken.*'broken'"):
        registry.get("mask", "nothing")
    # ... and blocking it silences it.
    assert fresh_registry(blocked=["broken"]).broken == []
    assert warning_lines(capsys) == []


def test_a_plugin_named_like_a_built_in_is_skipped(third_party, capsys) -> None:
    third_party("taken")
    registry = fresh_registry()
    reason = assert_skipped_with_one_warning(registry, capsys, "masks", "inpaint-taken-plugin")
    assert reason == "its plugin name 'masks' is taken by built-in; uninstall one of them"
    assert "dots" not in registry.names("mask")


def test_a_misspelt_hook_is_skipped_naming_the_hook(third_party, capsys) -> None:
    third_party("misspelt")
    registry = fresh_registry()
    reason = assert_skipped_with_one_warning(
        registry, capsys, "misspelt", "inpaint-misspelt-plugin"
    )
    assert "unknown hook inpaint_mask " in reason and "inpaint_masks" in reason


def test_a_hook_that_raises_skips_the_whole_plugin(third_party, capsys) -> None:
    third_party("raising")
    registry = fresh_registry()
    reason = assert_skipped_with_one_warning(registry, capsys, "raising", "inpaint-raising-plugin")
    assert reason == "failed in inpaint_losses: RuntimeError: the losses are not written yet"
    assert "stripes" not in registry.names("mask")  # its working hook is skipped too
    with pytest.raises(InpaintError) as caught:
        registry.build("mask", "stripes")
    assert str(caught.value) == (
        "mask 'stripes' comes from plugin 'raising' (inpaint-raising-plugin 0.1.0), "
        "which is broken: failed in inpaint_losses: RuntimeError: the losses are not written yet"
    )


def test_a_hook_returning_something_else_is_skipped(third_party, capsys) -> None:
    third_party("sloppy")
    registry = fresh_registry()
    reason = assert_skipped_with_one_warning(registry, capsys, "sloppy", "inpaint-sloppy-plugin")
    assert reason == "returned str from inpaint_masks, not a PluginSpec"


def test_a_hook_returning_no_list_is_skipped(capsys) -> None:
    pm, sources, broken = create_plugin_manager(load_entry_points=False)

    class Scalar:
        @hookimpl
        def inpaint_masks(self):
            return PluginSpec("one", object)

    pm.register(Scalar(), name="scalar")
    registry = Registry(pm, sources, broken)
    assert [p.reason for p in registry.broken] == [
        "returned PluginSpec from inpaint_masks, not a list of PluginSpec"
    ]
    assert registry.broken[0].source == "registered directly"
    assert len(warning_lines(capsys)) == 1


def test_a_failing_built_in_plugin_stays_a_hard_error() -> None:
    pm, sources, broken = create_plugin_manager(load_entry_points=False)

    class Ours:
        @hookimpl
        def inpaint_masks(self):
            raise ZeroDivisionError("a bug of ours")

    pm.register(Ours(), name="ours")
    sources["ours"] = "built-in"
    with pytest.raises(InpaintError, match="built-in plugin 'ours' failed in inpaint_masks"):
        Registry(pm, sources, broken)

    pm.unregister(name="ours")

    class Twin:
        @hookimpl
        def inpaint_masks(self):
            return [PluginSpec("center", object)]

    pm.register(Twin(), name="twin")
    sources["twin"] = "built-in"
    with pytest.raises(InpaintError, match="'center' is registered by more than one plugin"):
        Registry(pm, sources, broken)


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


def test_cli_lists_a_broken_plugin_and_carries_on(third_party, capsys, monkeypatch) -> None:
    from inpaint_toolkit.cli import main

    third_party("broken", "raising")
    monkeypatch.setenv("INPAINT_TOOLKIT_BLOCK", "")  # --block below edits it; restore it after
    assert main(["plugins"]) == 0
    captured = capsys.readouterr()
    warned = captured.err.splitlines()
    assert len(warned) == 2 and all(line.startswith("warning: plugin '") for line in warned)
    listed = captured.out.split("broken, skipped")[1]
    assert "broken" in listed and "inpaint-broken-plugin 0.1.0" in listed
    assert "a_module_that_does_not_exist" in listed and "the losses are not written" in listed

    get_registry.cache_clear()
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert sorted(p["name"] for p in listing["broken"]) == ["broken", "raising"]

    # A command asking for what the broken plugin would have given: one line, exit 2.
    get_registry.cache_clear()
    assert main(["run", "--mask", "stripes", "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("error: mask 'stripes' comes from plugin 'raising'")

    assert main(["--block", "broken", "--block", "raising", "plugins"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "broken, skipped" not in captured.out
