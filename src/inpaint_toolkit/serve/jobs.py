"""Repair jobs: one runs at a time, in a background thread; the page polls its status.

A second job while one runs is refused at once (:class:`Busy`, a 409 for the page),
never queued behind it: on a CPU a search takes minutes, and a page that waits without
saying why looks broken. Cancelling sets a flag that the z-search reads after every step.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.inpainting.search import SearchCancelled
from inpaint_toolkit.serve.decoding import Transparency, encode_png
from inpaint_toolkit.serve.faces import FoundFaces
from inpaint_toolkit.serve.repairing import Models, Version, repair_versions
from inpaint_toolkit.serve.settings import ServeSettings
from inpaint_toolkit.serve.store import BoundedStore

log = logging.getLogger("inpaint_toolkit.serve")

State = Literal["running", "done", "failed", "cancelled"]


@dataclass
class StoredPhoto:
    """An upload: the upright RGB ``pixels`` (transparency flattened onto white), whether
    the file was grey, its faces, and its transparency where it had some."""

    pixels: np.ndarray
    greyscale: bool
    faces: FoundFaces
    notices: list[str] = field(default_factory=list)
    transparency: Transparency | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)``."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])


class Job:
    """One repair: its progress while it runs, its versions when done."""

    def __init__(self, photo: StoredPhoto, damage: np.ndarray, settings: ServeSettings):
        self.id = ""
        self.photo, self.damage, self.settings = photo, damage, settings
        self.state: State = "running"
        self.phase = "starting"
        self.done, self.total = 0, settings.iterations
        self.message = ""
        self.notices: list[str] = []
        self.versions: list[Version] = []
        self.seconds: float | None = None
        self._cancel = threading.Event()
        self._pngs: dict[int, bytes] = {}
        self._png_lock = threading.Lock()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set()

    def on_step(self, done: int, total: int) -> bool:
        self.phase, self.done, self.total = "searching", done, total
        return not self._cancel.is_set()

    def status(self) -> dict[str, object]:
        return {
            "id": self.id,
            "state": self.state,
            "phase": "cancelling" if self.cancelling and self.state == "running" else self.phase,
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "notices": list(self.notices),
            "seconds": self.seconds,
            "results": [
                {"index": index, "loss": None if v.loss is None else round(v.loss, 5)}
                for index, v in enumerate(self.versions)
            ],
        }

    def png(self, index: int) -> bytes:
        """Version ``index`` as PNG bytes (encoded once, on first request)."""
        with self._png_lock:
            if index not in self._pngs:
                pixels = self.versions[index].pixels
                if self.photo.transparency is not None:
                    pixels = self.photo.transparency.applied_to(pixels, self.damage)
                self._pngs[index] = encode_png(pixels, greyscale=self.photo.greyscale)
            return self._pngs[index]


class Busy(Exception):
    """A job is running already; ``job_id`` names it."""

    def __init__(self, job_id: str):
        super().__init__(f"job {job_id} is still running; cancel it or wait for it to finish")
        self.job_id = job_id


class Worker:
    """Starts jobs, one at a time, and keeps the last few finished ones."""

    def __init__(self, models: Models, keep: int):
        self.models = models
        self.jobs: BoundedStore[Job] = BoundedStore(max(2, keep))
        self._running: Job | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Job) -> str:
        """Start ``job`` in a background thread; :class:`Busy` if one is running."""
        with self._lock:
            if self._running is not None:
                raise Busy(self._running.id)
            job.id = self.jobs.add(job)
            self._running = job
        thread = threading.Thread(target=self._run, args=(job,), name=f"inpaint-{job.id}")
        thread.daemon = True  # a stopping server does not wait long for a search
        self._thread = thread
        thread.start()
        return job.id

    def stop(self, wait: float = 5.0) -> None:
        """Cancel the running job and wait up to ``wait`` s for its thread to end: the
        search checks for a cancel every step, so it ends well within that."""
        running, thread = self._running, self._thread
        if running is not None:
            running.cancel()
        if thread is not None:
            thread.join(wait)

    @property
    def running(self) -> Job | None:
        return self._running

    def _run(self, job: Job) -> None:
        started = time.perf_counter()
        try:
            job.versions, job.notices = repair_versions(
                job.photo.pixels,
                job.photo.faces.aligned,
                job.damage,
                job.settings,
                self.models,
                on_step=job.on_step,
                cancelled=lambda: job.cancelling,
            )
            job.phase, job.state = "done", "done"
        except SearchCancelled as exc:
            job.phase, job.state, job.message = "cancelled", "cancelled", str(exc)
        except InpaintError as exc:
            job.phase, job.state, job.message = "failed", "failed", str(exc)
        except Exception as exc:  # a bug: the page gets one line, the log the traceback
            log.exception("job %s failed", job.id)
            job.phase, job.state = "failed", "failed"
            job.message = f"internal error ({exc.__class__.__name__}): {exc}"
        finally:
            job.seconds = round(time.perf_counter() - started, 2)
            with self._lock:
                self._running = None
