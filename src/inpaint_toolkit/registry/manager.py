"""The plugin manager and the registry built from it.

Built-in plugins and third-party ones take the same path: each is a module with
``@hookimpl`` functions, registered with ``pm.register``. Built-ins are listed in
:data:`inpaint_toolkit.plugins.BUILTIN_PLUGINS`; third parties arrive through the
``inpaint_toolkit`` entry-point group. The registry then asks every plugin for its spec
records.

A broken third-party plugin never takes the toolkit down. One that fails to import,
implements a hook that does not exist (a misspelt name), raises in a hook or returns
something other than spec records is skipped, with one warning line naming it, its
distribution and how to block it; everything else works. Asking for a name only it
would have provided is an error that says so. Two plugins claiming one name is an error
naming both, raised when that name is used (other names keep working). A built-in plugin
that fails is our bug, and stays a hard error.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy
from pydantic import ValidationError

from inpaint_toolkit.core.config import describe_validation_error
from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.notices import warning
from inpaint_toolkit.core.specs import KINDS, Kind, PluginSpec
from inpaint_toolkit.registry import hookspecs

ENTRY_POINT_GROUP = "inpaint_toolkit"
BLOCK_ENV_VAR = "INPAINT_TOOLKIT_BLOCK"
BUILTIN_SOURCE = "built-in"
DIRECT_SOURCE = "registered directly"  # a plugin given to pm.register by code, not installed

HOOK_OF_KIND: dict[Kind, str] = {
    "generator": "inpaint_generators",
    "discriminator": "inpaint_discriminators",
    "loss": "inpaint_losses",
    "mask": "inpaint_masks",
    "optimizer": "inpaint_optimizers",
    "initializer": "inpaint_initializers",
    "adapter": "inpaint_adapters",
    "inpainter": "inpaint_inpainters",
}


def blocked_from_environment() -> list[str]:
    """Plugin names listed, comma-separated, in ``$INPAINT_TOOLKIT_BLOCK``."""
    return [name.strip() for name in os.environ.get(BLOCK_ENV_VAR, "").split(",") if name.strip()]


def how_to_block(name: str) -> str:
    return f"block it with --block {name} or {BLOCK_ENV_VAR}={name}"


@dataclass(frozen=True)
class BrokenPlugin:
    """A third-party plugin that was skipped, and why."""

    name: str
    source: str
    reason: str  # one line
    provides: tuple[tuple[Kind, str], ...] = ()  # what it would have given, where known

    def describe(self) -> str:
        return f"plugin {self.name!r} ({self.source}) is broken and skipped: {self.reason}"


def create_plugin_manager(
    *, blocked: Iterable[str] = (), load_entry_points: bool = True
) -> tuple[pluggy.PluginManager, dict[str, str], list[BrokenPlugin]]:
    """A fresh plugin manager with the built-ins and (unless told not) the entry points.

    Returns the manager, the source of each registered plugin by plugin name, and the
    third-party plugins skipped as broken (each already reported in one warning line).
    Blocked names are skipped, built-in or not.
    """
    from inpaint_toolkit.plugins import BUILTIN_PLUGINS

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    sources: dict[str, str] = {}
    broken: list[BrokenPlugin] = []

    for module_name in BUILTIN_PLUGINS:
        short_name = module_name.rsplit(".", 1)[-1]
        if pm.is_blocked(short_name):
            continue
        plugin = importlib.import_module(module_name)
        try:
            pm.register(plugin, name=short_name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise InpaintError(f"built-in plugin {short_name!r} is invalid: {exc}") from exc
        sources[short_name] = BUILTIN_SOURCE

    if load_entry_points:
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if pm.is_blocked(entry_point.name):
                continue
            dist = entry_point.dist
            source = f"{dist.name} {dist.version}" if dist is not None else entry_point.value
            clash = entry_point.name in sources  # blocking the name would block both
            reason = _register_third_party(pm, entry_point, sources)
            if reason is None:
                sources[entry_point.name] = source
            else:
                broken.append(BrokenPlugin(entry_point.name, source, reason))
                hint = "" if clash else f"; {how_to_block(entry_point.name)}"
                warning(f"{broken[-1].describe()}{hint}")

    try:
        pm.check_pending()  # only built-ins are left to check: a misspelt hook is our bug
    except pluggy.PluginValidationError as exc:
        raise InpaintError(f"plugin {pm.get_name(exc.plugin)!r} is invalid: {exc}") from exc
    return pm, sources, broken


def _register_third_party(
    pm: pluggy.PluginManager, entry_point: EntryPoint, sources: Mapping[str, str]
) -> str | None:
    """Import and register one entry point; the reason it is broken, or None if it is not."""
    name = entry_point.name
    if name in sources:
        return f"its plugin name {name!r} is taken by {sources[name]}; uninstall one of them"
    try:
        plugin = entry_point.load()
    except (Exception, SystemExit) as exc:  # a third party's import error is not ours
        return f"failed to import: {_one_line(exc)}"
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        return f"is invalid: {_one_line(exc)}"
    unknown = sorted(
        caller.name
        for caller in pm.get_hookcallers(plugin) or ()
        if not caller.has_spec()
        and any(impl.plugin is plugin and not impl.optionalhook for impl in caller.get_hookimpls())
    )
    if unknown:  # a misspelt hook would otherwise be silently never called
        pm.unregister(plugin)
        return (
            f"implements unknown hook {', '.join(unknown)} "
            f"(the hooks are {', '.join(HOOK_OF_KIND.values())})"
        )
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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

    def __init__(
        self,
        pm: pluggy.PluginManager,
        sources: Mapping[str, str],
        broken: Iterable[BrokenPlugin] = (),
    ):
        self._by_kind: dict[Kind, dict[str, Registered]] = {kind: {} for kind in KINDS}
        self._conflicts: dict[tuple[Kind, str], list[Registered]] = {}
        self.broken: list[BrokenPlugin] = list(broken)
        offered: dict[str, list[Registered]] = {}  # by plugin name
        problems: dict[str, str] = {}  # the first problem of each failing plugin
        for kind in KINDS:
            # Ask each implementation on its own, so that every spec knows its plugin.
            for impl in getattr(pm.hook, HOOK_OF_KIND[kind]).get_hookimpls():
                source = sources.get(impl.plugin_name, DIRECT_SOURCE)
                entries, problem = _ask(impl, kind, source)
                offered.setdefault(impl.plugin_name, []).extend(entries)
                if problem is not None:
                    problems.setdefault(impl.plugin_name, problem)
        for plugin, entries in offered.items():
            source = sources.get(plugin, DIRECT_SOURCE)
            if plugin not in problems:
                for entry in entries:
                    self._add(entry)
            elif source == BUILTIN_SOURCE:
                raise InpaintError(f"built-in plugin {plugin!r} {problems[plugin]}")
            else:  # skipped whole: half a plugin is harder to understand than none
                provides = tuple((entry.kind, entry.name) for entry in entries)
                self.broken.append(BrokenPlugin(plugin, source, problems[plugin], provides))
                warning(f"{self.broken[-1].describe()}; {how_to_block(plugin)}")
        for claims in self._conflicts.values():
            warning(f"{_conflict_message(claims)}; until then the name cannot be used")

    def _add(self, entry: Registered) -> None:
        known = self._by_kind[entry.kind]
        claims = self._conflicts.get((entry.kind, entry.name))
        if claims is not None:
            claims.append(entry)
        elif entry.name in known:
            first = known.pop(entry.name)
            if first.source == BUILTIN_SOURCE and entry.source == BUILTIN_SOURCE:
                raise InpaintError(_conflict_message([first, entry]))  # our own bug
            self._conflicts[entry.kind, entry.name] = [first, entry]
        else:
            known[entry.name] = entry

    @property
    def conflicts(self) -> dict[tuple[Kind, str], list[Registered]]:
        """Names claimed by more than one plugin: an error when used."""
        return {key: list(claims) for key, claims in self._conflicts.items()}

    def names(self, kind: Kind) -> list[str]:
        return sorted(self._by_kind[kind])

    def __iter__(self) -> Iterator[Registered]:
        for kind in KINDS:
            yield from (self._by_kind[kind][name] for name in self.names(kind))

    def get(self, kind: Kind, name: str) -> Registered:
        entry = self._by_kind[kind].get(name)
        if entry is not None:
            return entry
        if (kind, name) in self._conflicts:
            raise InpaintError(_conflict_message(self._conflicts[kind, name]))
        for plugin in self.broken:
            if (kind, name) in plugin.provides:
                raise InpaintError(
                    f"{kind} {name!r} comes from plugin {plugin.name!r} ({plugin.source}), "
                    f"which is broken: {plugin.reason}"
                )
        for plugin in self.broken:  # it never said what it provides: its name is the hint
            if plugin.name == name and not plugin.provides:
                raise InpaintError(
                    f"{kind} {name!r} is likely to come from plugin {plugin.name!r} "
                    f"({plugin.source}), which is broken: {plugin.reason}"
                )
        available = ", ".join(self.names(kind)) or "none"
        message = f"unknown {kind} {name!r}; registered: {available}"
        if self.broken:
            skipped = ", ".join(f"{p.name!r} ({p.source})" for p in self.broken)
            message += f"; skipped as broken, so maybe from one of them: {skipped}"
        raise InpaintError(message)

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


def _ask(impl: Any, kind: Kind, source: str) -> tuple[list[Registered], str | None]:
    """One plugin's answer to one hook: its records, and what is wrong with it if anything."""
    hook = HOOK_OF_KIND[kind]
    try:
        specs = impl.function()
    except Exception as exc:
        return [], f"failed in {hook}: {_one_line(exc)}"
    if specs is None:
        return [], None
    if not isinstance(specs, list | tuple):
        return [], f"returned {type(specs).__name__} from {hook}, not a list of PluginSpec"
    entries = [
        Registered(kind, spec, impl.plugin_name, source)
        for spec in specs
        if isinstance(spec, PluginSpec)
    ]
    wrong = [type(s).__name__ for s in specs if not isinstance(s, PluginSpec)]
    if wrong:
        return entries, f"returned {wrong[0]} from {hook}, not a PluginSpec"
    return entries, None


def _conflict_message(claims: list[Registered]) -> str:
    by = " and ".join(f"plugin {c.plugin!r} ({c.source})" for c in claims)
    return (
        f"{claims[0].kind} {claims[0].name!r} is registered by more than one plugin: {by}; "
        f"block all but one with --block PLUGIN or {BLOCK_ENV_VAR}=PLUGIN"
    )


@cache
def get_registry() -> Registry:
    """The process-wide registry (built-ins, entry points, minus ``$INPAINT_TOOLKIT_BLOCK``).

    Built lazily on first use so that importing the package has no side effects.
    """
    return Registry(*create_plugin_manager(blocked=blocked_from_environment()))
