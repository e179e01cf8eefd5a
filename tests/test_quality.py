"""Quality guard: the packaged model must beat a classical fill where the paper says it does.

On 16 held-out real CelebA faces with the left half missing, the z-search with the
packaged model (a reduced budget of 300 iterations) must fill the hole closer to the truth
than OpenCV's Telea inpainting (hole L1) and produce faces the independent Haar-cascade
judge recognises more often. Skipped, with the reason, where ../shared/data is absent.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from inpaint_toolkit.evaluation.evaluate import EvalSettings, evaluate
from inpaint_toolkit.models import default_model_path


@pytest.mark.slow
def test_packaged_model_beats_telea_on_a_missing_half(celeba_test_faces, tmp_path) -> None:
    assert default_model_path().exists(), "the packaged model is missing from the package"
    data = tmp_path / "faces.npz"
    np.savez(data, images=celeba_test_faces[:16])
    result = evaluate(
        EvalSettings(
            data=[str(data)],
            masks="half",
            methods="dcgan,telea",
            iterations=300,
            restarts=2,
            out=tmp_path / "eval",
            seed=0,
        ),
        progress=False,
    )
    rows = {row.method: row for row in result.rows}
    dcgan, telea = rows["dcgan"], rows["telea"]
    print(json.dumps({name: vars(row) for name, row in rows.items()}, indent=1))
    assert dcgan.hole_l1 < telea.hole_l1
    assert dcgan.faces_found > telea.faces_found
