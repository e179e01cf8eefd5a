"""Training a generator and discriminator: the loop, its recipe, checkpoints, run files."""

from inpaint_toolkit.training.loop import CHECKPOINT_NAME, TrainResult, train, train_step
from inpaint_toolkit.training.state import TrainingState

__all__ = ["CHECKPOINT_NAME", "TrainResult", "TrainingState", "train", "train_step"]
