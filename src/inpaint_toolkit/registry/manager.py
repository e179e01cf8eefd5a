"""The plugin manager and the registry built from it.

Built-in plugins and third-party ones take the same path: each is a module with
``@hookimpl`` functions, registered with ``pm.register``. Built-ins are listed in
:data:`inpaint_toolkit.plugins.BUILTIN_PLUGINS`; third parties arrive through the
``inpaint_toolkit`` entry-point group. The registry then asks every plugin for its spec
records and refuses a name claimed twice, naming both sources.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

import pluggy
from pydantic import ValidationError

from inpaint_toolkit.core.config import describe_validation_error
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.specs import KINDS, Kind, PluginSpec
from inpaint_toolkit.registry import hookspecs

ENTRY_POINT_GROUP = "inpaint_toolkit"
BLOCK_ENV_VAR = "INPAINT_TOOLKIT_BLOCK"
BUILTIN_SOURCE = "built-in"

HOOK_OF_KIND: dict[Kind, str] = {
    "generator": "inpaint_generators",
    "discriminator": "inpaint_discriminators",
    "loss": "inpaint_losses",
    "mask": "inpaint_masks",
    "optimizer": "inpaint_optimizers",
    "inpainter": "inpaint_inpainters",
}


def blocked_from_environment() -> list[str]:
    """Plugin names listed, comma-separated, in ``$INPAINT_TOOLKIT_BLOCK``."""
    return [name.strip() for name in os.environ.get(BLOCK_ENV_VAR, "").split(",") if name.strip()]


def create_plugin_manager(
    *, blocked: Iterable[str] = (), load_entry_points: bool = True
) -> tuple[pluggy.PluginManager, dict[str, str]]:
    """A fresh plugin manager with the built-ins and (unless told not) the entry points.

    Returns the manager and the source of each registered plugin, by plugin name.
    Blocked names are skipped, built-in or not.
    """
    from inpaint_toolkit.plugins import BUILTIN_PLUGINS

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    sources: dict[str, str] = {}

    for module_name in BUILTIN_PLUGINS:
        short_name = module_name.rsplit(".", 1)[-1]
        if pm.is_blocked(short_name):
            continue
        _register(pm, importlib.import_module(module_name), short_name, BUILTIN_SOURCE)
        sources[short_name] = BUILTIN_SOURCE

    if load_entry_points:
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if pm.is_blocked(entry_point.name):
                continue
            dist = entry_point.dist
            source = f"{dist.name} {dist.version}" if dist is not None else entry_point.value
            if entry_point.name in sources:
                raise InpaintError(
                    f"plugin name {entry_point.name!r} is claimed by both "
                    f"{sources[entry_point.name]} and {source}; "
                    f"block one with {BLOCK_ENV_VAR}={entry_point.name}"
                )
            try:
                plugin = entry_point.load()
            except Exception as exc:  # a third party's import error must not be a traceback
                raise InpaintError(
                    f"plugin {entry_point.name!r} ({source}) failed to load: "
                    f"{type(exc).__name__}: {exc}; block it with {BLOCK_ENV_VAR}={entry_point.name}"
                ) from exc
            _register(pm, plugin, entry_point.name, source)
            sources[entry_point.name] = source

    try:
        pm.check_pending()  # a misspelt hook name is an error, not a silently ignored function
    except pluggy.PluginValidationError as exc:
        raise InpaintError(f"plugin {pm.get_name(exc.plugin)!r} is invalid: {exc}") from exc
    return pm, sources


def _register(pm: pluggy.PluginManager, plugin: object, name: str, source: str) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise InpaintError(f"plugin {name!r} ({source}) is invalid: {exc}") from exc


@dataclass(frozen=True)
class Registered:
    """A spec record with where it came from."""

    kind: Kind
    spec: PluginSpec
    plugin: str
    source: str

    @property
    def name(self) -> str:
        return self.spec.name


class Registry:
    """Name -> spec, per kind, gathered from every registered plugin."""

    def __init__(self, pm: pluggy.PluginManager, sources: Mapping[str, str]):
        self._by_kind: dict[Kind, dict[str, Registered]] = {kind: {} for kind in KINDS}
        for kind in KINDS:
            hook = getattr(pm.hook, HOOK_OF_KIND[kind])
            # Ask each implementation on its own, so that every spec knows its plugin.
            for impl in hook.get_hookimpls():
                source = sources.get(impl.plugin_name, BUILTIN_SOURCE)
                try:
                    specs = impl.function()
                except Exception as exc:
                    raise InpaintError(
                        f"plugin {impl.plugin_name!r} ({source}) failed in "
                        f"{HOOK_OF_KIND[kind]}: {type(exc).__name__}: {exc}"
                    ) from exc
                for spec in specs or ():
                    self._add(Registered(kind, spec, impl.plugin_name, source))

    def _add(self, entry: Registered) -> None:
        if not isinstance(entry.spec, PluginSpec):
            raise InpaintError(
                f"plugin {entry.plugin!r} ({entry.source}) returned {type(entry.spec).__name__} "
                f"from {HOOK_OF_KIND[entry.kind]}, not a PluginSpec"
            )
        known = self._by_kind[entry.kind]
        if entry.name in known:
            first = known[entry.name]
            raise InpaintError(
                f"{entry.kind} {entry.name!r} is registered twice: by plugin {first.plugin!r} "
                f"({first.source}) and by plugin {entry.plugin!r} ({entry.source})"
            )
        known[entry.name] = entry

    def names(self, kind: Kind) -> list[str]:
        return sorted(self._by_kind[kind])

    def __iter__(self) -> Iterator[Registered]:
        for kind in KINDS:
            yield from (self._by_kind[kind][name] for name in self.names(kind))

    def get(self, kind: Kind, name: str) -> Registered:
        try:
            return self._by_kind[kind][name]
        except KeyError:
            available = ", ".join(self.names(kind)) or "none"
            raise InpaintError(f"unknown {kind} {name!r}; registered: {available}") from None

    def options(self, kind: Kind, name: str, raw: Mapping[str, Any] | None = None) -> Any:
        """Validate ``raw`` against the plugin's options model; errors name the option."""
        entry = self.get(kind, name)
        try:
            return entry.spec.options.model_validate(dict(raw or {}))
        except ValidationError as exc:
            problems = describe_validation_error(exc)
            raise InpaintError(f"bad options for {kind} {name!r}: {problems}") from None

    def build(self, kind: Kind, name: str, raw: Mapping[str, Any] | None = None) -> Any:
        """Validate the options, then call the plugin's factory with them."""
        options = self.options(kind, name, raw)
        return self.get(kind, name).spec.factory(options)


@cache
def get_registry() -> Registry:
    """The process-wide registry (built-ins, entry points, minus ``$INPAINT_TOOLKIT_BLOCK``).

    Built lazily on first use so that importing the package has no side effects.
    """
    return Registry(*create_plugin_manager(blocked=blocked_from_environment()))
