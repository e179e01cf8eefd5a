"""``inpaint-toolkit train``'s settings (defaults, then a TOML file, then flags)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from inpaint_toolkit.core.config import Config, PluginChoice, Precision, Seed


class TrainConfig(Config):
    data: list[str] = Field(min_length=1, description="npz files, image folders or CelebA roots")
    out: Path = Field(Path("runs/train"), description="folder for checkpoint, samples, plots")
    epochs: int = Field(25, ge=1)
    batch_size: int = Field(64, ge=2)
    # A model may bring its own optimiser settings (TrainingRecipe): they replace these
    # defaults, never a value the user gave.
    lr: float = Field(2e-4, gt=0, description="Adam learning rate of G and D")
    lr_g: float | None = Field(None, gt=0, description="G's own learning rate (default: lr)")
    lr_d: float | None = Field(None, gt=0, description="D's own learning rate (default: lr)")
    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    flip: bool = Field(True, description="random horizontal flips")
    ema: float = Field(
        0.999, ge=0, lt=1, description="decay of the moving average of G's weights; 0: none"
    )
    # Off by measurement (docs/model.md): from scratch on the 38k faces, 2,600-2,800 steps
    # of 256 on a GPU, the run without it scored a lower SWD on every seed.
    augment: str = Field(
        "none",
        description="DiffAugment policy for everything D sees, e.g. color,translation,cutout",
    )
    # 0.01 by measurement (docs/model.md): three branches of one model, 2,306 steps each;
    # R1 lowered the SWD on every seed, separate learning rates (1e-4 / 4e-4) did not.
    r1: float = Field(0.01, ge=0, description="R1 gradient penalty weight gamma on reals; 0: off")
    init: str | None = Field(
        None, description="start G and D from this model file's weights (fine-tuning)"
    )
    eval_data: list[str] = Field(
        default_factory=list, description="held-out faces to score the prior on every epoch"
    )
    score_every: int = Field(
        1, ge=1, description="epochs between prior scores (on a GPU an epoch takes seconds)"
    )
    seed: Seed = 0
    generator: PluginChoice = PluginChoice(name="dcgan")
    discriminator: PluginChoice = PluginChoice(name="dcgan")
    image_size: int = Field(64, description="resize the data to this, and build models for it")
    precision: Precision = Field("auto", description="auto: bf16 autocast where it is fast")
    device: str = "auto"
    checkpoint_every: int = Field(200, ge=1, description="steps between checkpoints")
    time_limit_minutes: float | None = Field(None, gt=0, description="stop cleanly after this")
    resume: bool = False

    def adam_settings(self, model: str) -> dict[str, float | tuple[float, float]]:
        """Adam's ``lr`` and ``betas`` for ``"g"`` or ``"d"``: its own rate, else ``lr``."""
        own = self.lr_g if model == "g" else self.lr_d
        return {"lr": own or self.lr, "betas": (self.beta1, self.beta2)}
