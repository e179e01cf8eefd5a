"""One repair of an uploaded photo: K versions at full resolution, best first.

The photo package does the photography (crops, masks, pasting back, only damaged pixels
changed); this module gives it the z-search as its inpaint function. The search runs
once, over every damaged face, keeping ``samples`` distinct codes per face; the photo
is then pasted once per kept code, so the K versions cost one search.

The crops get the raw G(z_hat): the photo package blends it into the photo at full
resolution (``settings.blend``), so blending the 64-pixel crop first would only blur.

Damage outside every face's crop is not the model's to repair: it knows faces only, so
OpenCV's Telea inpainting fills it, once, and the notes say so.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.images import to_tensor, to_uint8
from inpaint_toolkit.core.runtime import resolve_device
from inpaint_toolkit.inpainting.inpaint import inpaint
from inpaint_toolkit.inpainting.search import Objective, SearchCancelled, StepCallback
from inpaint_toolkit.models import load_models
from inpaint_toolkit.photo import AlignedFace, repair_photo
from inpaint_toolkit.serve.settings import ServeSettings


class Models:
    """The generator (and discriminator, where the checkpoint has one), loaded once."""

    def __init__(self, checkpoint: str | None, device: str = "auto"):
        self.device = resolve_device(device)
        self.checkpoint = checkpoint
        try:
            g, d, _ = load_models(checkpoint, need_discriminator=True, device=self.device)
        except InpaintError:  # a generator-only file: losses without the prior still work
            g, d, _ = load_models(checkpoint, need_discriminator=False, device=self.device)
        self.generator: nn.Module = g
        self.discriminator: nn.Module | None = d
        self.image_size: int = int(g.image_size)
        self.lock = threading.Lock()  # one search at a time uses the models


@dataclass
class Version:
    """One repaired photo; ``loss`` is the mean over the repaired faces of the z-search's
    final objective (None where no face crop held damage, so nothing was searched)."""

    pixels: np.ndarray
    loss: float | None


def repair_versions(
    pixels: np.ndarray,
    faces: list[AlignedFace],
    damage: np.ndarray,
    settings: ServeSettings,
    models: Models,
    *,
    on_step: StepCallback | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> tuple[list[Version], list[str]]:
    """The repaired versions of ``pixels`` (best first) and the notices on the way.

    Raises :class:`~inpaint_toolkit.inpainting.search.SearchCancelled` where ``on_step``
    says stop, and :class:`InpaintError` where the damage cannot be repaired.
    """
    if not damage.any():
        raise InpaintError("the mask is empty: paint the damage first")
    objective = Objective.parse(settings.loss, prior_weight=settings.prior_weight)
    if objective.needs_discriminator and models.discriminator is None:
        raise InpaintError("this checkpoint holds no discriminator, which the prior loss needs")
    fills: list[np.ndarray] = []  # (N, K, S, S, 3) uint8: every face's kept fills
    losses: list[np.ndarray] = []  # (N, K)

    def search_crops(crops: np.ndarray, known: np.ndarray) -> np.ndarray:
        images = to_tensor(crops)
        known_t = torch.from_numpy(known).float()[:, None]
        images = images * known_t  # the hole mid-grey, as the mask plugins leave it
        with models.lock:
            result = inpaint(
                models.generator,
                models.discriminator,
                images,
                known_t,
                settings,
                seed=settings.seed,
                progress=False,
                on_step=on_step,
            )
        if result.search is None:  # every crop was fully known: nothing to search
            raise InpaintError("no damaged pixel falls inside a face crop")
        generated = result.search.generated  # (N, K, 3, S, S), best first per face
        n, k = generated.shape[:2]
        fills.append(to_uint8(generated.flatten(0, 1)).reshape(n, k, *crops.shape[1:]))
        losses.append(result.search.loss.float().cpu().numpy())
        return fills[0][:, 0]

    first = repair_photo(
        pixels,
        damage,
        search_crops,
        faces=faces,
        blend=settings.blend,
        seed=settings.seed,
        on_notice=None,
    )
    notes = [counted_from_one(note) for note in first.notices]
    if not fills:  # the damage lies outside every face crop: OpenCV filled it
        return [Version(first.photo, None)], [*notes, OFF_THE_FACES]
    mean_loss = losses[0].mean(axis=0)  # (K,): averaged over the repaired faces
    versions = [Version(first.photo, float(mean_loss[0]))]
    for k in range(1, fills[0].shape[1]):
        if cancelled():
            raise SearchCancelled("cancelled while pasting the versions")
        again = repair_photo(
            pixels,
            damage,
            lambda crops, known, k=k: fills[0][:, k],
            faces=faces,
            blend=settings.blend,
            seed=settings.seed,
            on_notice=None,
        )
        versions.append(Version(again.photo, float(mean_loss[k])))
    versions.sort(key=lambda version: version.loss)
    return versions, notes


OFF_THE_FACES = (
    "no face's square holds the damage, so the model was not run: it repairs faces only, "
    "and OpenCV's Telea inpainting filled the damage instead, as one version"
)
# The photo package counts faces from 0, as its API and run's --face do; the page counts
# them from 1, as people do.
_FACE_NUMBERS = re.compile(r"\b(face(?:\(s\))? )(\d+(?:, \d+)*)")


def counted_from_one(note: str) -> str:
    """``note`` with its face numbers counted from 1: "face 0: eyes not found" ->
    "face 1: eyes not found", "repairing face(s) 0, 2" -> "repairing face(s) 1, 3"."""
    return _FACE_NUMBERS.sub(
        lambda match: match[1] + ", ".join(str(int(n) + 1) for n in match[2].split(", ")), note
    )
