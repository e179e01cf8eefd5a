"""Sweep the detail stage's gain against fidelity, and plot the Pareto front.

    python benchmarks/measure_detail.py [--faces 24] [--skip 200] [--out runs/detail]

Not a test. On ``--faces`` CelebA and as many LFW held-out faces, taken after the first
``--skip`` (so apart from the faces that docs/results.md reports), each mask's holes are
repaired at the toolkit's defaults with the detail stage off, for each adaptation learning
rate; each fill is then given each gain (``inpainting.detail``) and Poisson-blended. Per
mask, set and setting: hole L1, PSNR, median hole sharpness and the realism distance
(``evaluation.realism``). Writes ``detail.json`` and ``detail_front.png`` (hole L1 against
the realism distance, one line per mask and learning rate, labelled by gain).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from inpaint_toolkit.core.expressions import parse_choice
from inpaint_toolkit.evaluation import metrics, realism
from inpaint_toolkit.inpainting.blending import blend
from inpaint_toolkit.inpainting.detail import restore_detail
from inpaint_toolkit.inpainting.inpaint import SearchOptions, inpaint
from inpaint_toolkit.models import load_models
from inpaint_toolkit.registry import get_registry

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SETS = {"CelebA": "celeba_subset_test_64.npz", "LFW": "lfw_deepfunneled_test_64.npz"}
MASKS = ("center", "half", "eyes")
GAINS = (0.0, 0.5, 0.75, 1.0, 1.25, 1.5)
LEARNING_RATES = ("3e-4", "1e-4")


def faces(file: str, count: int, skip: int) -> torch.Tensor:
    images = np.load(DATA / file)["images"][skip : skip + count]
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1


def damaged(truth: torch.Tensor, mask: str) -> tuple[torch.Tensor, torch.Tensor]:
    choice = parse_choice(mask)
    made = get_registry().build("mask", choice.name, choice.options)(
        truth, torch.Generator().manual_seed(0)
    )
    return made.images.float(), made.known.float()


def scores(output: torch.Tensor, truth: torch.Tensor, known: torch.Tensor) -> dict[str, float]:
    return {
        "hole_l1": float(metrics.hole_l1(output, truth, known).double().mean()),
        "psnr": float(metrics.psnr(output, truth).double().mean()),
        "hole_sharpness": realism.median_sharpness(output, truth, known),
        "realism": realism.realism_distance(output, truth, known),
    }


def measure(count: int, skip: int) -> list[dict]:
    g, d, _ = load_models(None, need_discriminator=True, device=torch.device("cpu"))
    rows = []
    for set_name, file in SETS.items():
        truth = faces(file, count, skip)
        for mask in MASKS:
            holed, known = damaged(truth, mask)
            for lr in LEARNING_RATES:
                options = SearchOptions(adapt=f"adapt[lr={lr}]", detail=0.0)
                fill = inpaint(g, d, holed, known, options, progress=False).search.generated
                for gain in GAINS:
                    output = blend("poisson", restore_detail(fill[:, 0], gain), holed, known)
                    row = {"set": set_name, "mask": mask, "lr": lr, "gain": gain}
                    rows.append(row | scores(output, truth, known))
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(MASKS), figsize=(13, 4), dpi=110)
    for axis, mask in zip(axes, MASKS, strict=True):
        for lr in LEARNING_RATES:
            for set_name, style in zip(SETS, ("-o", "--s"), strict=True):
                line = [r for r in rows if (r["mask"], r["lr"], r["set"]) == (mask, lr, set_name)]
                if not line:
                    continue
                xs = [r["realism"] for r in line]
                ys = [r["hole_l1"] for r in line]
                axis.plot(xs, ys, style, label=f"{set_name}, adapt lr {lr}", markersize=4)
                for r, x, y in zip(line, xs, ys, strict=True):
                    axis.annotate(f"{r['gain']:g}", (x, y), fontsize=7, xytext=(3, 3),
                                  textcoords="offset points")  # fmt: skip
        axis.set(title=f"mask {mask}", xlabel="realism distance (lower: more real)",
                 ylabel="hole L1 (lower: closer)")  # fmt: skip
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    figure.suptitle("the detail stage: each point a gain, from 0 (the fill as generated)")
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=24)
    parser.add_argument("--skip", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("runs/detail"))
    parser.add_argument("--plot-only", action="store_true", help="re-plot detail.json")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "detail.json"
    if args.plot_only:
        rows = json.loads(results.read_text())
    else:
        rows = measure(args.faces, args.skip)
        results.write_text(json.dumps(rows, indent=1))
    plot(rows, args.out / "detail_front.png")
    print(f"wrote {results} and {args.out / 'detail_front.png'}")


if __name__ == "__main__":
    main()
