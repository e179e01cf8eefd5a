"""Fixtures of the photo tests; the helpers are in ``photo_support``."""

from __future__ import annotations

import numpy as np
import pytest
from photo_support import SAMPLE, load_photo


@pytest.fixture
def photo() -> np.ndarray:
    """A 250x250 LFW photo whose face and eyes are found."""
    return load_photo(SAMPLE)
