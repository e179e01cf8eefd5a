"""``inpaint-toolkit plugins``: every registered plugin by kind, with source and options,
then the third-party plugins skipped as broken and the names claimed twice."""

from __future__ import annotations

import argparse
import json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plugins", help="list the registered plugins")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=handle)


def describe() -> dict[str, list[dict]]:
    """Every plugin kind (empty ones too) -> its entries, with options and their defaults;
    ``broken``: the plugins skipped, with the reason; ``conflicts``: names claimed twice."""
    from inpaint_toolkit.core.specs import KINDS
    from inpaint_toolkit.registry import get_registry

    registry = get_registry()
    listing: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for entry in registry:
        schema = entry.spec.options.model_json_schema()
        listing[entry.kind].append(
            {
                "name": entry.name,
                "description": entry.spec.description,
                "plugin": entry.plugin,
                "source": entry.source,
                "options": {
                    key: {
                        "default": prop.get("default"),
                        "description": prop.get("description", ""),
                    }
                    for key, prop in schema.get("properties", {}).items()
                },
            }
        )
    listing["broken"] = [
        {"name": p.name, "source": p.source, "reason": p.reason} for p in registry.broken
    ]
    listing["conflicts"] = [
        {"kind": kind, "name": name, "plugins": [f"{c.plugin} ({c.source})" for c in claims]}
        for (kind, name), claims in registry.conflicts.items()
    ]
    return listing


def handle(args: argparse.Namespace) -> int:
    listing = describe()
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    broken, conflicts = listing.pop("broken"), listing.pop("conflicts")
    for kind, entries in listing.items():
        print(f"{'losses' if kind == 'loss' else kind + 's'}:")
        if not entries:
            print("  (none)")
        for entry in entries:
            options = ", ".join(f"{k}={v['default']}" for k, v in entry["options"].items())
            print(f"  {entry['name']:<14} {entry['description']}")
            print(f"  {'':<14} from {entry['source']} (plugin {entry['plugin']})")
            if options:
                print(f"  {'':<14} options: {options}")
    if broken:
        print("broken, skipped (block them with --block NAME):")
        for plugin in broken:
            print(f"  {plugin['name']:<14} from {plugin['source']}: {plugin['reason']}")
    if conflicts:
        print("claimed by more than one plugin, unusable until all but one are blocked:")
        for conflict in conflicts:
            print(f"  {conflict['kind']} {conflict['name']}: {', '.join(conflict['plugins'])}")
    return 0
