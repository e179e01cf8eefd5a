"""The Haar-cascade face judge: high on real faces, nothing on grey or noise."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from inpaint_toolkit.core.images import to_tensor
from inpaint_toolkit.evaluation.judge import FaceJudge, JudgeSummary, Verdict


@pytest.fixture(scope="module")
def judge() -> FaceJudge:
    return FaceJudge()


def test_real_test_faces_score_high(judge: FaceJudge, celeba_test_faces: np.ndarray):
    faces = celeba_test_faces[:60]  # a fifth of the set keeps the test under a few seconds
    summary = judge.summarise(judge.judge(faces))
    # Measured on all 300: 0.900 faces, 0.913 eyes.
    assert summary.images == 60
    assert summary.faces_found >= 0.8
    assert summary.eyes_found >= 0.8


def test_tensors_and_arrays_get_the_same_verdicts(judge: FaceJudge, celeba_test_faces):
    faces = celeba_test_faces[:4]
    assert judge.judge(to_tensor(faces)) == judge.judge(faces)


def test_flat_grey_and_noise_have_no_face(judge: FaceJudge):
    grey = np.full((4, 64, 64, 3), 128, np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, size=(8, 64, 64, 3), dtype=np.uint8)
    assert judge.summarise(judge.judge(grey)) == JudgeSummary(0.0, 0.0, 4)
    assert judge.summarise(judge.judge(noise)).faces_found == 0.0
    assert judge.judge(torch.zeros(1, 3, 64, 64)) == [Verdict(False, 0)]


def test_summary_counts_two_eyes_per_image(judge: FaceJudge):
    verdicts = [Verdict(True, 2), Verdict(False, 1), Verdict(True, 0), Verdict(False, 0)]
    assert judge.summarise(verdicts) == JudgeSummary(0.5, 3 / 8, 4)
    assert judge.summarise([]) == JudgeSummary(0.0, 0.0, 0)


def test_wrong_input_is_refused(judge: FaceJudge):
    with pytest.raises(ValueError, match="uint8"):
        judge.judge(np.zeros((1, 64, 64, 3), np.float32))


def test_an_opencv_without_cascades_is_a_one_line_error(monkeypatch):
    import types

    from inpaint_toolkit.core.errors import InpaintError
    from inpaint_toolkit.evaluation import judge as judge_module

    partial = types.ModuleType("cv2")  # as one GPU image's OpenCV: cv2.data, no classifier
    partial.data = types.SimpleNamespace(haarcascades="/nowhere")
    monkeypatch.setitem(sys.modules, "cv2", partial)
    judge_module._cascades.cache_clear()
    try:
        with pytest.raises(InpaintError, match="needs OpenCV with its Haar cascades"):
            FaceJudge()
    finally:
        judge_module._cascades.cache_clear()
