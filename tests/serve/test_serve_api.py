"""The JSON API of ``inpaint-toolkit serve``, through FastAPI's TestClient, on tiny models."""

from __future__ import annotations

import base64
import io
import time
import typing
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from serve_helpers import decode_png, mask_b64, png_bytes, wait_for

from inpaint_toolkit.registry import get_registry
from inpaint_toolkit.serve.repairing import OFF_THE_FACES, counted_from_one
from inpaint_toolkit.serve.settings import MAX_SEED, PLUGIN_SETTINGS, Limits, _may_hold_text


def start(client, image_id: str, damaged: np.ndarray, **settings):
    return start_raw(client, image_id, mask_b64(damaged), **settings)


def start_raw(client, image_id: str, mask: object, **settings):
    body = {"image_id": image_id, "mask": mask, "settings": settings}
    return client.post("/api/jobs", json=body)


def test_a_photo_is_repaired_only_under_the_mask(client, uploaded, astronaut, eye_stroke):
    assert (uploaded["width"], uploaded["height"]) == (512, 512)
    assert uploaded["faces"] and not uploaded["whole_photo"]
    x, y, w, h = uploaded["faces"][0]["box"]
    assert x < 225 < x + w and y < 103 < y + h  # the astronaut's face, eyes inside

    response = start(client, uploaded["id"], eye_stroke)
    assert response.status_code == 202, response.text
    status = wait_for(client, response.json()["id"])
    assert status["state"] == "done", status
    assert status["done"] == status["total"] == 5
    losses = [result["loss"] for result in status["results"]]
    assert len(losses) == 2 and losses == sorted(losses)  # K = samples, best first

    for result in status["results"]:
        png = client.get(f"/api/jobs/{status['id']}/results/{result['index']}?download=true")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.headers["content-disposition"].startswith("attachment;")
        repaired = decode_png(png.content)
        assert repaired.shape == astronaut.shape
        changed = (repaired != astronaut).any(axis=2)
        assert changed.any() and not (changed & ~eye_stroke).any()


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparency_comes_back_as_it_went_in(client, astronaut, eye_stroke, mode):
    alpha = np.full(astronaut.shape[:2], 255, np.uint8)
    alpha[:60, :60] = 0  # a transparent corner
    alpha[60:120, :60] = 128
    image = Image.fromarray(astronaut).convert(mode[0] if mode == "LA" else "RGB")
    image.putalpha(Image.fromarray(alpha))
    sent = np.asarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    upload = client.post("/api/images", content=buffer.getvalue()).json()
    assert any("transparency" in note for note in upload["notices"])
    assert not any("white" in note for note in upload["notices"])
    shown = decode_png(client.get(f"/api/images/{upload['id']}/photo").content)
    assert np.array_equal(shown[..., 3], alpha)

    status = wait_for(client, start(client, upload["id"], eye_stroke).json()["id"])
    assert status["state"] == "done", status
    repaired = decode_png(client.get(f"/api/jobs/{status['id']}/results/0").content)
    assert repaired.shape == sent.shape  # RGBA stays RGBA, LA stays LA
    assert np.array_equal(repaired[..., -1], alpha)
    changed = (repaired != sent).any(axis=2)
    assert changed.any() and not (changed & ~eye_stroke).any()


def test_the_notes_count_faces_from_one_as_the_page_does(client, uploaded, eye_stroke):
    assert len(uploaded["faces"]) == 2  # the astronaut, and a false face on her badge
    status = wait_for(client, start(client, uploaded["id"], eye_stroke).json()["id"])
    assert "2 faces in the photo; repairing face(s) 1, whose crops hold damage" in status["notices"]
    assert counted_from_one("face 0: eyes not found") == "face 1: eyes not found"
    assert counted_from_one("face 1's crop reaches") == "face 2's crop reaches"
    assert counted_from_one("face(s) 0, 2, whose") == "face(s) 1, 3, whose"
    assert counted_from_one("outside the repaired face crop(s)") == (
        "outside the repaired face crop(s)"
    )


def test_damage_off_every_face_is_filled_once_and_the_notes_say_why(client, uploaded, astronaut):
    off = np.zeros(astronaut.shape[:2], dtype=bool)
    off[450:500, 10:60] = True  # the bottom-left corner, far from both faces
    status = wait_for(client, start(client, uploaded["id"], off, samples=2).json()["id"])
    assert status["state"] == "done", status
    assert status["results"] == [{"index": 0, "loss": None}]
    assert OFF_THE_FACES in status["notices"]
    assert "repairs faces only" in OFF_THE_FACES and "one version" in OFF_THE_FACES


def test_the_uploaded_photo_and_the_presets_come_back_at_photo_size(client, uploaded, astronaut):
    photo = client.get(f"/api/images/{uploaded['id']}/photo")
    assert np.array_equal(decode_png(photo.content), astronaut)
    areas = {}
    for preset in ("center", "half", "eyes", "mouth", "pixels"):
        response = client.get(f"/api/images/{uploaded['id']}/presets/{preset}?face=0")
        assert response.status_code == 200, preset
        grey_alpha = decode_png(response.content)
        assert grey_alpha.shape == (512, 512, 2)
        damaged = grey_alpha[..., 1] > 127
        ys, xs = np.nonzero(damaged)
        x, y, w, h = uploaded["faces"][0]["box"]
        assert x - w / 2 < xs.mean() < x + 1.5 * w and y - h / 2 < ys.mean() < y + 1.5 * h
        areas[preset] = damaged.sum()
    assert areas["eyes"] < areas["center"] < areas["half"]
    assert client.get(f"/api/images/{uploaded['id']}/presets/nose").status_code == 422
    assert client.get(f"/api/images/{uploaded['id']}/presets/center?face=9").status_code == 422


def test_a_photo_without_a_face_is_taken_as_a_face_crop(client):
    noise = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    upload = client.post("/api/images", content=png_bytes(noise)).json()
    assert upload["whole_photo"] and len(upload["faces"]) == 1
    assert any("no face found" in notice for notice in upload["notices"])
    damaged = np.zeros((40, 48), dtype=bool)
    damaged[10:30, 14:34] = True
    status = wait_for(client, start(client, upload["id"], damaged).json()["id"])
    assert status["state"] == "done", status
    repaired = decode_png(client.get(f"/api/jobs/{status['id']}/results/0").content)
    assert not ((repaired != noise).any(axis=2) & ~damaged).any()


def test_a_body_over_the_limit_is_413_by_length_or_by_counting(make_client):
    client = make_client(limits=Limits(max_body=1000))
    response = client.post("/api/images", content=b"\x89PNG" + b"x" * 2000)
    assert response.status_code == 413 and "limit" in response.json()["detail"]

    def chunks():  # no Content-Length: the server counts as it reads
        for _ in range(10):
            yield b"y" * 300

    response = client.post("/api/images", content=chunks())
    assert response.status_code == 413


def test_too_many_pixels_is_413_before_decoding(make_client):
    client = make_client(limits=Limits(max_pixels=100 * 100))
    response = client.post("/api/images", content=png_bytes(np.zeros((101, 100, 3), np.uint8)))
    assert response.status_code == 413 and "megapixels" in response.json()["detail"]


@pytest.mark.parametrize(
    "shape", [(1, 4000), (4000, 1), (1, 1), (2, 2), (7, 7), (23, 300), (24, 2401), (3000, 29)]
)
def test_a_photo_too_thin_for_a_face_is_422(client, shape):
    response = client.post("/api/images", content=png_bytes(np.full((*shape, 3), 128, np.uint8)))
    assert response.status_code == 422
    height, width = shape
    assert response.json()["detail"].startswith(f"the photo is {width}x{height} pixels, too thin")


def test_the_thinnest_photo_taken_is_repaired(client):
    strip = np.random.default_rng(1).integers(0, 256, (24, 2400, 3), dtype=np.uint8)
    upload = client.post("/api/images", content=png_bytes(strip))
    assert upload.status_code == 201, upload.text
    damaged = np.zeros(strip.shape[:2], dtype=bool)
    damaged[5:15, 1195:1205] = True
    status = wait_for(client, start(client, upload.json()["id"], damaged).json()["id"])
    assert status["state"] == "done", status


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"", 422), (b"hello, not an image", 415), (b"GIF89a" + b"\0" * 20, 415)],
    ids=["empty", "text", "gif"],
)
def test_what_is_not_a_photo_is_refused_by_content(client, body, status):
    response = client.post("/api/images", content=body, headers={"content-type": "image/png"})
    assert response.status_code == status and response.json()["detail"]


@pytest.mark.parametrize(
    ("settings", "field", "words"),
    [
        ({"iterations": 0}, "iterations", "greater than or equal"),
        ({"iterations": 10**6}, "iterations", "less than or equal"),
        ({"loss": "weighted_l1+nope"}, "loss", "unknown loss"),
        ({"optimizer": "adam[lr=x]"}, "optimizer", "lr"),
        ({"blend": "smudge"}, "blend", "poisson"),
        ({"iterationz": 3}, "iterationz", "not permitted"),
        ({"init": "nope"}, "init", "unknown initializer"),
        ({"adapt": "adapt[steps=0]"}, "adapt", "steps"),
        ({"init": "encoder[checkpoint=/etc/passwd]"}, "init", "may not choose"),
    ],
)
def test_a_bad_setting_is_422_naming_the_field(
    client, uploaded, eye_stroke, settings, field, words
):
    response = start(client, uploaded["id"], eye_stroke, **settings)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "settings", field]
    assert words in error["msg"]


def test_no_setting_can_name_a_file(client, uploaded, eye_stroke):
    """Every option of every plugin a request can name that takes text (a checkpoint's
    path, say) is refused alike, whether the file exists or not: nothing is opened."""
    registry = get_registry()
    named = {**PLUGIN_SETTINGS, "loss": "loss"}
    refused = []
    for setting, kind in named.items():
        for name in registry.names(kind):
            for option, field in registry.get(kind, name).spec.options.model_fields.items():
                if str in (field.annotation, *typing.get_args(field.annotation)):
                    for value in ("/etc/passwd", "/no/such/file"):
                        text = f"{name}[{option}={value}]"
                        answer = start(client, uploaded["id"], eye_stroke, **{setting: text})
                        assert answer.status_code == 422, text
                        (error,) = answer.json()["detail"]
                        assert error["loc"] == ["body", "settings", setting]
                        refused.append(error["msg"].replace(value, ""))
    assert len(refused) >= 2 and len(set(refused)) == 1, refused  # encoder's checkpoint
    assert "files are chosen by whoever starts the server" in refused[0]


@pytest.mark.parametrize(
    ("annotation", "text"),
    [
        (int, False),
        (float | None, False),
        (typing.Literal["auto", "fp32"], False),
        (list[int], False),
        (tuple[float, ...], False),
        (str, True),
        (str | None, True),
        (Path, True),
        (list[str], True),
        (dict[str, float], True),
        (typing.Any, True),
    ],
)
def test_options_that_may_hold_text_are_told_apart(annotation, text):
    assert _may_hold_text(annotation) is text


def test_the_preset_seed_is_bounded(client, uploaded):
    url = f"/api/images/{uploaded['id']}/presets/pixels"
    assert client.get(f"{url}?seed={MAX_SEED}").status_code == 200
    for seed in (MAX_SEED + 1, 10**26, -1):
        response = client.get(f"{url}?seed={seed}")
        assert response.status_code == 422, seed
        assert response.json()["detail"][0]["loc"] == ["query", "seed"]


def test_bad_masks_and_ids_are_refused(client, uploaded, eye_stroke):
    assert start(client, uploaded["id"], np.zeros((512, 512), bool)).status_code == 422
    wrong_size = start(client, uploaded["id"], np.ones((10, 10), bool))
    assert wrong_size.status_code == 422 and "10x10" in wrong_size.json()["detail"]
    assert start(client, "A" * 16, eye_stroke).status_code == 404
    for mask in ("abc", "!!!!", "iVBORw0KGgo=x", 12, None):
        not_base64 = {"image_id": uploaded["id"], "mask": mask, "settings": {}}
        response = client.post("/api/jobs", json=not_base64)
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "mask"]
        assert error["msg"].startswith(("not base64 text", "must be text"))
    wrapped = base64.encodebytes(base64.b64decode(mask_b64(eye_stroke))).decode()  # 76 a line
    assert "\n" in wrapped and start_raw(client, uploaded["id"], wrapped).status_code == 202
    assert client.get("/api/jobs/../../etc/passwd").status_code == 404
    assert client.get("/api/images/not-an-id/photo").status_code == 422


def test_a_second_job_is_409_at_once_and_cancel_stops_the_first(client, uploaded, eye_stroke):
    first = start(client, uploaded["id"], eye_stroke, iterations=10_000)
    assert first.status_code == 202
    job_id = first.json()["id"]
    began = time.monotonic()
    while client.get(f"/api/jobs/{job_id}").json()["done"] == 0:
        assert time.monotonic() - began < 30
        time.sleep(0.02)

    second = start(client, uploaded["id"], eye_stroke)
    assert second.status_code == 409 and job_id in second.json()["detail"]
    assert client.get(f"/api/jobs/{job_id}/results/0").status_code == 409

    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 200
    status = wait_for(client, job_id, timeout=20)
    assert status["state"] == "cancelled" and status["done"] < 10_000
    assert "cancelled after" in status["message"]
    assert start(client, uploaded["id"], eye_stroke).status_code == 202  # free again


def test_the_host_header_must_name_this_server(make_client):
    client = make_client()
    for host in ("127.0.0.1:8000", "localhost:8000"):
        assert client.get("/api/config", headers={"host": host}).status_code == 200
    for host in ("evil.example:8000", "evil.example", "127.0.0.1:9999", "localhost"):
        response = client.get("/", headers={"host": host})
        assert response.status_code == 400, host
        assert response.headers["x-content-type-options"] == "nosniff"
    bound = make_client(host="192.0.2.7", allow_hosts=["studio.local"])
    for host in ("192.0.2.7:8000", "studio.local:8000", "localhost:8000"):
        assert bound.get("/api/config", headers={"host": host}).status_code == 200


def test_other_sites_are_refused_and_no_cors_headers_are_sent(client):
    for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}):
        response = client.post("/api/images", content=b"x", headers=headers)
        assert response.status_code == 403
        assert not any(name.startswith("access-control-") for name in response.headers)
    same = client.get("/api/config", headers={"origin": "http://127.0.0.1:8000"})
    assert same.status_code == 200
    link = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}
    assert client.get("/", headers=link).status_code == 200  # a link to the page is fine
    embedded = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"}
    assert client.get("/api/config", headers=embedded).status_code == 403
    preflight = client.options(
        "/api/jobs",
        headers={"origin": "http://127.0.0.1:8000", "access-control-request-method": "POST"},
    )
    assert not any(name.startswith("access-control-") for name in preflight.headers)


def test_the_page_is_served_with_strict_security_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script type="module" src="/static/app.js"' in page.text
    assert "<script>" not in page.text and "http" not in page.text.replace("http://www.w3", "")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    for name in ("app.js", "page.js", "mask.js", "results.js", "app.css", "icon.svg"):
        assert client.get(f"/static/{name}").status_code == 200
    for name in ("index.html", "..%2Fapp.py", "missing.js"):
        assert client.get(f"/static/{name}").status_code == 404
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN
    api = client.get("/api/openapi.json")
    assert api.headers["cache-control"] == "no-store"
    assert {"/api/images", "/api/jobs", "/api/jobs/{job_id}/cancel"} <= set(api.json()["paths"])


def test_the_config_gives_defaults_and_limits(client):
    config = client.get("/api/config").json()
    assert config["defaults"]["iterations"] == 5 and config["image_size"] == 32
    assert config["limits"]["max_body_bytes"] == Limits().max_body
    assert config["presets"] == ["center", "half", "eyes", "mouth", "pixels"]


def test_a_stopping_server_ends_its_running_search(make_client, astronaut, eye_stroke):
    client = make_client()
    upload = client.post("/api/images", content=png_bytes(astronaut)).json()
    job_id = start(client, upload["id"], eye_stroke, iterations=10_000).json()["id"]
    worker = client.app.state.context.worker
    job = worker.jobs.get(job_id)
    client.__exit__(None, None, None)  # the lifespan's shutdown, as Ctrl-C on serve runs it
    assert worker.running is None and job.state == "cancelled", job.state
