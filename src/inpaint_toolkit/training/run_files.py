"""What a training run writes into its folder, on rank 0 only.

``metrics.jsonl`` (one line per step), ``scores.jsonl`` (the prior's scores on held-out
faces, one line per epoch), a sample grid per epoch, plots of both, and the checkpoint.
On resume, lines a killed run logged after its last checkpoint are dropped: those steps
are redone, so the logs never have a gap or a duplicate. A line cut short by ``kill -9``
is dropped too, and so are the temporary files of writes the kill interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import Tensor, nn
from tqdm import tqdm

from inpaint_toolkit.core.images import atomic_write, save_grid
from inpaint_toolkit.core.plots import plot_curves

METRICS_FILE = "metrics.jsonl"
SCORES_FILE = "scores.jsonl"


class RunFiles:
    def __init__(self, out: Path, *, enabled: bool, resume_step: int | None):
        self.out = out
        self.enabled = enabled
        self.metrics_path = out / METRICS_FILE
        self.scores_path = out / SCORES_FILE
        if not enabled:
            return
        out.mkdir(parents=True, exist_ok=True)
        (out / "samples").mkdir(exist_ok=True)
        for stale in [*out.glob(".*.tmp"), *(out / "samples").glob(".*.tmp")]:
            stale.unlink(missing_ok=True)  # atomic_write's, from a killed run
        # A new run starts fresh logs: a run killed before its first checkpoint (so
        # restarted without --resume) must not leave its steps in front of these.
        self._metrics = _open_log(self.metrics_path, resume_step)
        self._scores = _open_log(self.scores_path, resume_step)

    def note(self, message: str) -> None:
        tqdm.write(message)

    def log(self, record: dict[str, Any]) -> None:
        if self.enabled:
            self._metrics.write(json.dumps(record) + "\n")

    def log_scores(self, record: dict[str, Any]) -> None:
        if self.enabled:
            self._scores.write(json.dumps(record) + "\n")
            self._scores.flush()

    def samples(self, images: Tensor, epoch: int) -> None:
        if not self.enabled:
            return
        save_grid(images, self.out / "samples" / f"epoch_{epoch:03d}.png")
        save_grid(images, self.out / "samples.png")
        self.plot()

    def flush(self) -> None:
        if self.enabled:
            self._metrics.flush()
            self._scores.flush()

    def close(self) -> None:
        if self.enabled:
            self._metrics.close()
            self._scores.close()

    def plot(self) -> None:
        if not self.enabled:
            return
        self.flush()
        records = _read(self.metrics_path)
        if records:
            steps = [r["step"] for r in records]
            smooth = max(1, len(records) // 200)  # average into at most ~200 points
            for key, title in (("loss_d", "Discriminator loss"), ("loss_g", "Generator loss")):
                values = [r[key] for r in records]
                xs = steps[smooth - 1 :: smooth]
                ys = [
                    sum(values[i : i + smooth]) / smooth
                    for i in range(0, len(values) - smooth + 1, smooth)
                ]
                plot_curves(
                    {key: (xs[: len(ys)], ys)}, self.out / f"{key}.png", title=title, xlabel="step"
                )
        scores = _read(self.scores_path)
        if scores:
            steps = [r["step"] for r in scores]
            plot_curves(
                {"SWD x 1e3 (lower is better)": (steps, [r["swd"] for r in scores])},
                self.out / "swd.png",
                title="Sliced Wasserstein distance to held-out faces",
                xlabel="step",
            )
            plot_curves(
                {
                    "faces found": (steps, [r["judge_faces"] for r in scores]),
                    "eyes found": (steps, [r["judge_eyes"] for r in scores]),
                },
                self.out / "judge.png",
                title="Haar judge on samples",
                xlabel="step",
            )


def _open_log(path: Path, resume_step: int | None):
    if resume_step is not None and path.exists():
        kept = [
            line
            for line in path.read_text().splitlines()
            if (step := _step_of(line)) is not None and step <= resume_step
        ]
        text = "".join(line + "\n" for line in kept)
        atomic_write(path, lambda tmp: Path(tmp).write_text(text))  # a kill here loses nothing
    return path.open("w" if resume_step is None else "a")


def _step_of(line: str) -> int | None:
    """The step a log line is about; None for a line a killed run left half-written."""
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return None


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [
        json.loads(line) for line in path.read_text().splitlines() if _step_of(line) is not None
    ]


def sample_grid(g: nn.Module, fixed_z: Tensor) -> Tensor:
    """G(fixed z) for the epoch's grid; ``g`` is expected in eval mode."""
    import torch

    with torch.no_grad():
        return g(fixed_z).float()
