"""What the benchmark files share besides fixtures: the paths and how a model runs them.

(A module of its own, not ``conftest``: importing from a conftest breaks when several
conftest modules are on the path.)
"""

from __future__ import annotations

import torch

from inpaint_toolkit.core import runtime

FAST = "bf16"  # the fast path's precision, as runtime.resolve_precision picks it
# benchmark label -> precision
PATHS = {"fp32": "fp32", "fast": FAST, "recipe": FAST, "recipe+diffaugment": FAST}


def prepare(model: torch.nn.Module, device: torch.device, path: str) -> torch.nn.Module:
    """The model as the path runs it: channels_last for the fast path."""
    return model.to(device, memory_format=runtime.memory_format(device, PATHS[path]))
