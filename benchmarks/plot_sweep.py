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


def plot(results: dict[tuple[str, str], dict[str, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    masks = sorted({mask for mask, _ in results})
    methods = sorted({method for _, method in results})
    figure, axes = plt.subplots(1, len(masks), figsize=(4 * len(masks), 4), dpi=110)
    axes = [axes] if len(masks) == 1 else list(axes)
    markers = "osD^v<>pPX*h"
    for ax, mask in zip(axes, masks, strict=True):
        for i, method in enumerate(methods):
            r = results.get((mask, method))
            if r is None:
                continue
            seconds = max(r["seconds_per_image"], 1e-3)  # classical methods: near zero
            ax.scatter(seconds, r["hole_l1"], marker=markers[i % len(markers)], label=method)
        ax.set(title=mask, xlabel="seconds per face (log)", ylabel="hole L1 (lower is better)")
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=2, fontsize=7)
    figure.tight_layout(rect=(0, 0.06 + 0.035 * (len(methods) // 2), 1, 1))
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
