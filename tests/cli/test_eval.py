"""``inpaint-toolkit eval`` end to end on a tiny npz, with the classical methods."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest

from inpaint_toolkit.cli import main
from inpaint_toolkit.evaluation.evaluate import GROUND_TRUTH, EvalSettings, build_methods
from inpaint_toolkit.registry import get_registry

METRICS = ("hole_l1", "psnr", "hole_psnr", "ssim", "hole_sharpness", "realism")
METRICS += ("faces_found", "eyes_found")


def run_eval(data: Path, out: Path) -> dict:
    argv = ["eval", "--data", str(data), "--masks", "center,half[side=top]"]
    argv += ["--methods", "telea,ns[radius=5],biharmonic", "--limit", "4", "--seed", "3"]
    assert main([*argv, "--batch-size", "3", "--out", str(out), "--quiet"]) == 0
    return json.loads((out / "results.json").read_text())


def metrics(result: dict) -> list[tuple]:
    return [tuple(row[key] for key in ("mask", "method", *METRICS)) for row in result["rows"]]


def test_eval_end_to_end(faces_npz: Path, tmp_path: Path):
    results = run_eval(faces_npz, tmp_path / "first")
    out = tmp_path / "first"

    # Every file, one table per mask, one comparison picture per mask.
    for name in ("results.md", "results.csv", "results.json"):
        assert (out / name).stat().st_size > 0
    assert (out / "compare_center.png").exists()
    assert (out / "compare_half_side_top.png").exists()
    text = (out / "results.md").read_text()
    assert "## Mask `center`" in text and "## Mask `half[side=top]`" in text
    assert "| ns[radius=5] |" in text
    with open(out / "results.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 8

    # One row per mask x method, the ground truth included, all numbers finite.
    rows = results["rows"]
    expected = {
        (mask, method)
        for mask in ("center", "half[side=top]")
        for method in (GROUND_TRUTH, "telea", "ns[radius=5]", "biharmonic")
    }
    assert {(row["mask"], row["method"]) for row in rows} == expected
    assert len(rows) == len(expected)
    for row in rows:
        assert row["images"] == 4
        for key in (*METRICS, "seconds_per_image"):
            assert math.isfinite(row[key]), (row["mask"], row["method"], key)
        if row["method"] == GROUND_TRUTH:
            assert row["hole_l1"] == 0 and row["ssim"] == pytest.approx(1)
        else:
            assert 0 < row["hole_l1"] < 1 and row["ssim"] < 1
    assert results["settings"]["seed"] == 3 and results["settings"]["images"] == 4

    # The same seed again: the same holes, the same repairs, the same numbers.
    assert metrics(run_eval(faces_npz, tmp_path / "again")) == metrics(results)


def test_skip_evaluates_a_later_slice(faces_npz: Path, tmp_path: Path):
    """``--skip 5 --limit 4`` scores exactly what a file of images 5 to 8 scores."""
    import numpy as np

    images = np.load(faces_npz)["images"]
    sliced = tmp_path / "sliced.npz"
    np.savez(sliced, images=images[5:9], names=np.array([f"{i}.png" for i in range(5, 9)]))
    common = ["--masks", "center,pixels", "--methods", "telea", "--seed", "3", "--quiet"]
    argv = ["eval", "--data", str(faces_npz), "--skip", "5", "--limit", "4", *common]
    assert main([*argv, "--out", str(tmp_path / "skipped")]) == 0
    assert main(["eval", "--data", str(sliced), *common, "--out", str(tmp_path / "file")]) == 0
    skipped = json.loads((tmp_path / "skipped" / "results.json").read_text())
    whole = json.loads((tmp_path / "file" / "results.json").read_text())
    assert metrics(skipped) == metrics(whole)
    assert skipped["settings"]["images"] == 4
    # And it is a different slice from the first four.
    argv = ["eval", "--data", str(faces_npz), "--limit", "4", *common]
    assert main([*argv, "--out", str(tmp_path / "first")]) == 0
    first = json.loads((tmp_path / "first" / "results.json").read_text())
    assert metrics(first) != metrics(skipped)


def test_default_methods_are_every_registered_inpainter():
    # Building is cheap: the z-search loads its model only when first asked to inpaint.
    methods = build_methods(EvalSettings(data=["unused.npz"]))
    assert [method.label for method in methods] == get_registry().names("inpainter")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--methods", "nosuch"], "unknown inpainter 'nosuch'; registered: .*telea"),
        (["--masks", "nosuch"], "unknown mask 'nosuch'; registered: .*center"),
        (["--methods", "telea,telea"], "given twice"),
        (["--methods", "telea[radious=2]"], "bad options for inpainter 'telea'.*radious"),
        (["--limit", "0"], "limit"),
        (["--skip", "40"], "--skip 40 leaves no images: the data has 40"),
        (["--skip", "-1"], "skip"),
    ],
)
def test_mistakes_are_one_line_errors(faces_npz, tmp_path, capsys, flags, message):
    argv = ["eval", "--data", str(faces_npz), "--masks", "center", "--methods", "telea"]
    assert main([*argv, "--out", str(tmp_path), "--quiet", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert re.search(message, err), err


def test_method_settings_go_only_to_methods_that_take_them():
    if "dcgan" not in get_registry().names("inpainter"):
        pytest.skip("the dcgan inpainter is not registered")
    settings = EvalSettings(
        data=["unused.npz"], methods="dcgan,telea", iterations=3, restarts=2, checkpoint="x.pt"
    )
    dcgan, telea = build_methods(settings)
    assert (dcgan.options["iterations"], dcgan.options["restarts"]) == (3, 2)
    assert dcgan.options["checkpoint"] == "x.pt"
    assert telea.options == {}
    # An option in the method's own brackets wins over the flag.
    settings = EvalSettings(data=["unused.npz"], methods="dcgan[iterations=7]", iterations=3)
    assert build_methods(settings)[0].options["iterations"] == 7


def test_a_setting_no_method_takes_is_noticed(capsys):
    build_methods(EvalSettings(data=["unused.npz"], methods="telea", iterations=5))
    assert "--iterations is ignored" in capsys.readouterr().err


def test_pictures_without_the_originals(faces_npz: Path, tmp_path: Path):
    from PIL import Image

    common = ["eval", "--data", str(faces_npz), "--masks", "center", "--methods", "telea,ns"]
    common += ["--limit", "4", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "with")]) == 0
    assert main([*common, "--out", str(tmp_path / "without"), "--no-originals"]) == 0
    with_rows = Image.open(tmp_path / "with" / "compare_center.png").height
    without_rows = Image.open(tmp_path / "without" / "compare_center.png").height
    # 4 rows (truth, damaged, telea, ns) against 2 (telea, ns), each 64 px plus padding.
    assert (with_rows, without_rows) == (4 * 66 + 2, 2 * 66 + 2)


def test_calibrate_rows_read_the_realism_columns(celeba_test_faces, tmp_path: Path):
    """``--calibrate`` adds the real faces blurred in the hole: the more blur, the less
    detail and the further from real faces, with the ground truth at 1.0 and the floor."""
    import numpy as np

    data = tmp_path / "real.npz"
    np.savez(data, images=celeba_test_faces[:12], names=np.array([f"{i}" for i in range(12)]))
    argv = ["eval", "--data", str(data), "--masks", "eyes", "--methods", "telea", "--quiet"]
    assert main([*argv, "--calibrate", "--out", str(tmp_path / "out")]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    rows = {row["method"]: row for row in results["rows"]}
    assert list(rows) == [GROUND_TRUTH, "blur_0.5", "blur_1", "blur_1.5", "telea"]
    ladder = [rows[name] for name in (GROUND_TRUTH, "blur_0.5", "blur_1", "blur_1.5")]
    assert ladder[0]["hole_sharpness"] == pytest.approx(1.0)
    sharpness = [row["hole_sharpness"] for row in ladder]
    realism = [row["realism"] for row in ladder]
    assert sharpness == sorted(sharpness, reverse=True) and realism == sorted(realism)
    assert all(row["hole_l1"] > 0 for row in ladder[1:])
    assert "| sharpness | realism |" in (tmp_path / "out" / "results.md").read_text()
