"""How good is a generator as a face prior? Two measures that need no download.

* the sliced Wasserstein distance (``swd``) between its samples and real held-out faces,
  on Laplacian-pyramid patches (lower is better; see ``swd.py``);
* the Haar-cascade judge on its samples: the fraction in which a face is found, and of
  the eyes (higher is better; real test faces score 90-99 % faces).

The SWD is computed on as many samples as there are real faces, the judge on those or on
more (``judge_samples``), all from a fixed seed, so two generators scored with the same
faces and seed are compared on the same footing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from inpaint_toolkit.evaluation.judge import FaceJudge
from inpaint_toolkit.evaluation.swd import sliced_wasserstein

BATCH = 256


@dataclass(frozen=True)
class PriorScore:
    swd: float  # mean over pyramid levels, x 1e3
    swd_levels: dict[int, float]
    judge_faces: float
    judge_eyes: float
    samples: int  # compared with as many real faces by the SWD
    judge_samples: int

    def as_record(self) -> dict:
        record = asdict(self)
        record["swd_levels"] = {str(k): round(v, 3) for k, v in self.swd_levels.items()}
        for key in ("swd", "judge_faces", "judge_eyes"):
            record[key] = round(record[key], 4)
        return record


@torch.no_grad()
def generate(g: nn.Module, count: int, *, seed: int = 0) -> Tensor:
    """``count`` samples G(z) in fp32, from codes drawn with ``seed``, on the CPU."""
    noise = torch.Generator().manual_seed(seed)
    device = next(g.parameters()).device
    z = g.sample_z(count, generator=noise, device=device)
    return torch.cat([g(chunk).float().cpu() for chunk in z.split(BATCH)])


def score_generator(
    g: nn.Module, real: Tensor, *, seed: int = 0, judge_samples: int = 0
) -> PriorScore:
    """Score ``g`` (in its current mode) against ``real`` faces ``(N, 3, H, W)`` in [-1, 1];
    the judge sees ``max(N, judge_samples)`` samples."""
    return score_samples(generate(g, max(len(real), judge_samples), seed=seed), real, seed=seed)


def score_samples(samples: Tensor, real: Tensor, *, seed: int = 0) -> PriorScore:
    """The SWD of the first ``len(real)`` of ``samples`` to ``real``; the judge on all.

    Scoring real faces (from the training files, say) as if a generator had drawn them
    gives the floor of the measure: what a generator that drew exactly those faces would
    score against ``real``."""
    if len(samples) < len(real):
        raise ValueError(f"{len(samples)} samples for {len(real)} real faces: need as many")
    distance = sliced_wasserstein(samples[: len(real)].float().cpu(), real.float().cpu(), seed=seed)
    judge = FaceJudge()
    summary = judge.summarise(judge.judge(samples))
    return PriorScore(
        distance.mean,
        distance.levels,
        summary.faces_found,
        summary.eyes_found,
        len(real),
        len(samples),
    )
