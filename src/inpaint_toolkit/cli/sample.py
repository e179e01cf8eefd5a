"""``inpaint-toolkit sample``: a grid of generated faces, from torch or from ONNX."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="draw random faces from the generator into one PNG grid",
        description=(
            "Draw --n codes z with --seed and save G(z) as a grid. The same seed gives the "
            "same codes with either backend, so the two grids can be compared."
        ),
    )
    parser.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    parser.add_argument(
        "--checkpoint",
        metavar="PATH",
        nargs="+",
        help="safetensors checkpoint (default: the packaged model); with --score, several",
    )
    parser.add_argument(
        "--onnx",
        metavar="PATH",
        help="exported generator for --backend onnx (default: export --checkpoint to a "
        "temporary file first)",
    )
    parser.add_argument("--n", type=int, default=64, help="number of faces (64)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--columns", type=int, default=8, help="faces per grid row (8)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--out", metavar="PATH", help="PNG grid to write (with --score: JSON)")
    parser.add_argument(
        "--score",
        action="store_true",
        help="score each --checkpoint as a face prior against --data: SWD and Haar judge "
        "(the judge on max(--n, faces in --data) samples)",
    )
    parser.add_argument(
        "--data", nargs="+", metavar="FACES", help="held-out real faces for --score"
    )
    parser.add_argument(
        "--reference",
        nargs="+",
        metavar="FACES",
        help="with --score, also score real faces drawn at random from these files (the "
        "training data, say) as if a model had drawn them: the floor a generator of exactly "
        "those faces would reach (a file named twice is drawn twice as often)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import tempfile

    import torch

    from inpaint_toolkit.core.errors import InpaintError
    from inpaint_toolkit.core.images import save_grid

    if args.score:
        return _score(args)
    if args.data or args.reference:
        raise InpaintError("--data and --reference are for --score; add --score")
    if args.out is None:
        raise InpaintError("--out is needed: the PNG grid to write")
    if args.checkpoint and len(args.checkpoint) > 1:
        raise InpaintError("one --checkpoint for a grid (several only with --score)")
    args.checkpoint = args.checkpoint[0] if args.checkpoint else None
    if args.n < 1:
        raise InpaintError(f"--n must be at least 1, not {args.n}")
    if args.onnx and args.backend != "onnx":
        raise InpaintError("--onnx is for --backend onnx; drop it or add --backend onnx")
    if args.onnx and args.checkpoint:
        raise InpaintError("give --checkpoint (to export) or --onnx (already exported), not both")
    seed = torch.Generator().manual_seed(args.seed)

    if args.backend == "torch":
        from inpaint_toolkit.core.runtime import resolve_device
        from inpaint_toolkit.models import load_models

        device = resolve_device(args.device)
        generator, _, _ = load_models(args.checkpoint, need_discriminator=False, device=device)
        with torch.no_grad():
            images = generator(generator.sample_z(args.n, generator=seed, device=device))
        ran = f"torch ({device.type}, fp32)"
    elif args.onnx:
        images, ran = _sample_onnx(args.onnx, args, seed)
    else:
        with tempfile.TemporaryDirectory(prefix="inpaint-toolkit-") as folder:
            exported = _export(args.checkpoint, Path(folder) / "generator.onnx")
            images, ran = _sample_onnx(exported, args, seed)

    path = save_grid(images, args.out, columns=args.columns)
    print(f"wrote {path}: {args.n} faces, seed {args.seed}, backend {ran}")
    return 0


def _export(checkpoint: str | None, path: Path) -> Path:
    from inpaint_toolkit.export.onnx_export import export_checkpoint

    report = export_checkpoint(checkpoint, path)
    print(
        f"exported to a temporary ONNX file; max |onnxruntime - torch fp32| = "
        f"{report.max_abs_difference:.2e}"
    )
    return path


def _sample_onnx(
    path: str | Path, args: argparse.Namespace, seed: torch.Generator
) -> tuple[torch.Tensor, str]:
    from inpaint_toolkit.export.onnx_runtime import OnnxGenerator

    generator = OnnxGenerator(path, device=args.device)
    images = generator(generator.sample_z(args.n, generator=seed))
    return images, f"onnx ({generator.provider})"


def _score(args: argparse.Namespace) -> int:
    """SWD to held-out faces and the Haar judge on as many samples, per checkpoint."""
    import json

    from inpaint_toolkit.core.errors import InpaintError
    from inpaint_toolkit.core.images import atomic_write, to_tensor
    from inpaint_toolkit.core.runtime import resolve_device
    from inpaint_toolkit.data.faces import load_faces
    from inpaint_toolkit.evaluation.prior_score import (
        PriorScore,
        score_generator,
        score_samples,
    )
    from inpaint_toolkit.models import load_models

    if not args.data:
        raise InpaintError("--score needs --data: held-out real faces to compare samples with")
    device = resolve_device(args.device)
    results = []

    def report(name: str, score: PriorScore, real_faces: int) -> None:
        results.append({"checkpoint": name, **score.as_record()})
        levels = ", ".join(f"{side}px {value:.2f}" for side, value in score.swd_levels.items())
        print(
            f"{name}: SWD x1e3 {score.swd:.2f} ({levels}); judge: faces {score.judge_faces:.1%}, "
            f"eyes {score.judge_eyes:.1%} of {score.judge_samples} samples; SWD on "
            f"{score.samples} samples vs {real_faces} real faces"
        )

    real = None
    for checkpoint in args.checkpoint or [None]:
        generator, _, _ = load_models(checkpoint, need_discriminator=False, device=device)
        real = to_tensor(load_faces(args.data, generator.image_size, split="test").images)
        score = score_generator(generator, real, seed=args.seed, judge_samples=args.n)
        report(checkpoint or "packaged default", score, len(real))
    if args.reference:
        assert real is not None
        drawn = _draw_faces(args.reference, max(len(real), args.n), real.shape[-1], args.seed)
        score = score_samples(to_tensor(drawn), real, seed=args.seed)
        report(f"real faces from {' '.join(args.reference)}", score, len(real))
    if args.out:
        text = json.dumps(results, indent=2)
        atomic_write(args.out, lambda tmp: Path(tmp).write_text(text))
        print(f"wrote {args.out}")
    return 0


def _draw_faces(sources: list[str], count: int, image_size: int, seed: int):
    """``count`` faces drawn at random without replacement from every source as one set."""
    import numpy as np

    from inpaint_toolkit.core.errors import InpaintError
    from inpaint_toolkit.data.faces import open_faces

    faces = open_faces(sources, image_size)
    if len(faces) < count:
        raise InpaintError(
            f"--reference holds {len(faces)} faces; --score needs {count} (as many as the "
            "samples): name more files or lower --n"
        )
    chosen = np.random.default_rng(seed).choice(len(faces), count, replace=False)
    return faces.take(chosen)
