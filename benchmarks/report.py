"""Print a pytest-benchmark JSON file of these benchmarks as a Markdown table.

    python benchmarks/report.py benchmarks/results/<machine>.json [more.json ...]

Each row gives the median time of one call (for "fill one face": the seconds per face),
the rate (images, or image-iterations, per
second) and, in the last column, that rate over the plain fp32 path's rate for the same
case and device *in the same file*: ratios are only meaningful within one run on one
machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

PATH_ORDER = {"fp32": 0, "fast": 1, "recipe": 2, "recipe+diffaugment": 3, "onnx": 4}
BASELINE = "fp32"


def describe_machine(results: dict[str, Any]) -> str:
    info = results.get("machine_info", {})
    cpu = info.get("cpu", {})
    parts = [
        f"{cpu.get('brand_raw', '?')} ({cpu.get('count', '?')} logical cores)",
        f"torch {info.get('torch', '?')}, threads: {info.get('torch_threads', '?')}",
        f"onnxruntime {info.get('onnxruntime', '?')}",
        f"CPU bf16: {'native' if info.get('cpu_fast_bf16') else 'emulated'}",
    ]
    if info.get("omp_num_threads"):
        parts.append(f"OMP_NUM_THREADS={info['omp_num_threads']}")
    if info.get("cuda_device"):
        parts.append(f"GPU: {info['cuda_device']}")
    return ", ".join(parts) + f"; run {results.get('datetime', '?')}"


def rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per benchmark that carries our extra_info, with its ratio to fp32."""
    found = []
    for bench in results.get("benchmarks", []):
        extra = bench.get("extra_info", {})
        if "rate" not in extra:
            continue
        found.append(
            {
                **extra,
                "median": bench["stats"]["median"],
                "rounds": bench["stats"]["rounds"],
            }
        )
    baseline = {
        (row["case"], row["device"]): row["rate"] for row in found if row["path"] == BASELINE
    }
    for row in found:
        reference = baseline.get((row["case"], row["device"]))
        row["ratio"] = row["rate"] / reference if reference else None
    found.sort(key=lambda r: (r["device"], r["case"], PATH_ORDER.get(r["path"], 9)))
    return found


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def markdown_table(results: dict[str, Any]) -> str:
    lines = [
        "| case | device | path | median per call | rounds | rate | vs fp32 |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for row in rows(results):
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "n/a"
        lines.append(
            f"| {row['case']} | {row['device']} | {row['path']} | "
            f"{format_seconds(row['median'])} | {row['rounds']} | "
            f"{row['rate']:.4g} {row['unit']} | {ratio} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="--benchmark-json files")
    args = parser.parse_args(argv)
    for path in args.results:
        try:
            results = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            print(f"error: {path}: not a readable benchmark JSON file ({exc})", file=sys.stderr)
            return 2
        print(f"### {path.name}\n\n{describe_machine(results)}\n\n{markdown_table(results)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
