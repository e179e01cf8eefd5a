"""Quality against seconds per face, from ``inpaint-toolkit eval`` runs of a settings sweep.

A sweep is one ``eval`` call per face set whose ``--methods`` lists the settings to
compare, e.g. ``dcgan[init=encoder,iterations=100,restarts=4],dcgan[preset=paper],ns``;
eval times each method on the same faces and holes. This script reads those runs'
``results.csv`` files and draws, for each mask, the hole L1 of every setting against its
seconds per face (averaged over the runs given), and prints the table as markdown::

    python benchmarks/plot_sweep.py runs/sweep/celeba runs/sweep/lfw --out docs/images/sweep.png
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

METRICS = ("hole_l1", "psnr", "ssim", "faces_found", "eyes_found", "seconds_per_image")


def read_runs(folders: list[Path]) -> dict[tuple[str, str], dict[str, float]]:
    """``(mask, method) -> metric means`` over the runs, weighted by their image counts."""
    sums: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for folder in folders:
        with open(folder / "results.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["method"] == "ground_truth":
                    continue
                key, count = (row["mask"], row["method"]), float(row["images"])
                sums[key]["images"] += count
                for metric in METRICS:
                    sums[key][metric] += float(row[metric]) * count
    return {
        key: {**{m: total[m] / total["images"] for m in METRICS}, "images": total["images"]}
        for key, total in sums.items()
    }


def markdown(results: dict[tuple[str, str], dict[str, float]]) -> str:
    lines = [
        "| mask | setting | faces | hole L1 | PSNR | SSIM | judge faces | judge eyes | s/face |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (mask, method), r in sorted(results.items(), key=lambda kv: (kv[0][0], kv[1]["hole_l1"])):
        lines.append(
            f"| {mask} | `{method}` | {r['images']:.0f} | {r['hole_l1']:.4f} | {r['psnr']:.2f} "
            f"| {r['ssim']:.3f} | {r['faces_found']:.1%} | {r['eyes_found']:.1%} "
            f"| {r['seconds_per_image']:.2f} |"
        )
    return "\n".join(lines)


def short_label(method: str) -> str:
    """``dcgan[init=encoder,iterations=1,restarts=1,adapt=adapt[steps=20]]`` ->
    ``dcgan init=encoder it=1 r=1 adapt[steps=20]``: what differs, readable in a legend."""
    if "[" not in method:
        return method
    name, options = method.split("[", 1)
    options = options[:-1].replace("iterations=", "it=").replace("restarts=", "r=")
    return f"{name} " + " ".join(part.replace("adapt=", "") for part in _split(options))


def _split(options: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in options:
        depth += (char == "[") - (char == "]")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def plot(results: dict[tuple[str, str], dict[str, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    masks = sorted({mask for mask, _ in results})
    methods = sorted({method for _, method in results})
    columns = 3
    rows = (len(masks) + 1 + columns - 1) // columns  # one panel more, for the legend
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4 * rows), dpi=100)
    axes = list(axes.flat)
    colours = plt.get_cmap("tab20")
    style = {
        method: {"color": colours(i % 20), "marker": "osD^v<>pPX*h"[i % 12]}
        for i, method in enumerate(methods)
    }
    for ax, mask in zip(axes, masks, strict=False):
        for method in methods:
            r = results.get((mask, method))
            if r is not None:  # classical methods take ~0 s: drawn at 1 ms
                seconds = max(r["seconds_per_image"], 1e-3)
                ax.scatter(seconds, r["hole_l1"], s=40, **style[method])
        ax.set(title=f"mask {mask}", xlabel="seconds per face (log)", ylabel="hole L1")
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    legend = axes[len(masks)]
    for method in methods:
        legend.scatter([], [], label=short_label(method), **style[method])
    legend.legend(loc="center", fontsize=8, frameon=False)
    legend.axis("off")
    for ax in axes[len(masks) + 1 :]:
        ax.axis("off")
    figure.suptitle("hole L1 (lower is better) against time per face")
    figure.tight_layout()
    figure.savefig(out)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="eval output folders")
    parser.add_argument("--out", type=Path, help="PNG of quality against time")
    args = parser.parse_args()
    results = read_runs(args.runs)
    print(markdown(results))
    if args.out:
        plot(results, args.out)
        print(f"plot written to {args.out}")


if __name__ == "__main__":
    main()
