"""The batching engine: admitted jobs wait in a bounded queue and one worker thread
generates for them in batches.

Decoder-only LMs are batched continuously (`continuous.RunningBatch`): each step gives
every running job one token; a job that is done (its end token, a stop sequence, its
max_tokens, its client gone, its deadline) leaves at once and waiting jobs take the free
places. Other LMs (seq2seq) run one batch at a time through `VisionLanguageModel.generate`
(left padding, KV cache) with one stopping criterion that hands each job its tokens and
stops each job's row on its own; requests share such a batch when their sampling settings
are equal. Either way, an idle engine waits a moment for requests that are arriving."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, deque
from contextlib import contextmanager

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError
from instructvl.serving.continuous import RunningBatch, steppable
from instructvl.serving.errors import APIError, bad_request, busy, internal
from instructvl.serving.jobs import Job
from instructvl.serving.settings import Settings

log = logging.getLogger("instructvl.serving")


def _shutting_down() -> APIError:
    return APIError(503, "the server is shutting down", type="server_error", code="shutting_down")


class _EachJobStops(StoppingCriteria):
    """Hands each row's newest token to its job and stops the rows whose job is done
    (for `generate`); counts the steps."""

    def __init__(self, jobs: list[Job], eos_ids: set[int]) -> None:
        self.jobs = jobs
        self.eos_ids = eos_ids
        self.steps = 0

    def __call__(self, input_ids: torch.Tensor, scores, **kwargs) -> torch.Tensor:
        now = time.monotonic()
        self.steps += 1
        done = [job.done or job.take(t, self.eos_ids, now) for job, t in zip(self.jobs, input_ids[:, -1].tolist())]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class Engine:
    """Runs jobs on `vlm` on one worker thread (`start` / `stop`), continuously batched
    for decoder-only LMs, one batch at a time otherwise (`continuous`).

    Capacity is `max_batch_size` generating plus `max_queue` waiting; `reserve` holds a
    place for a request from its first byte (so bodies being read and images being
    decoded are bounded too) and refuses with 429 when none is left. It also offers what
    preparing a request needs from the model (`prompt_tokens`, `pixels`, `answer_text`),
    the tokenizer guarded by one lock."""

    def __init__(self, vlm, settings: Settings) -> None:
        self.vlm = vlm
        self.settings = settings
        self.context_length = vlm.llm.max_length
        tokenizer = vlm.llm.tokenizer
        self.eos_ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
        self.continuous = steppable(vlm)
        self._tokenizer_lock = threading.Lock()
        self._collator = vlm.collator()
        self._cond = threading.Condition()
        self._waiting: deque[Job] = deque()
        self._active: list[Job] = []  # taken by the worker: generating (or about to)
        self._reserved = 0
        self._job_seconds = 1.0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.finished: Counter[str] = Counter()
        self.prefills = self.steps = self.rows = 0

    # -- what preparing a request needs ------------------------------------------------

    def prompt_tokens(self, sample: Sample) -> int:
        """Length of the sample's prompt in tokens, visual tokens included."""
        with self._tokenizer_lock:
            return len(self._collator.encode(sample, prompt_only=True).ids)

    def pixels(self, image) -> torch.Tensor:
        """Pixel values [3, H, W] of one RGB image, by the model's own image processor."""
        return self.vlm.vision.preprocess([image])[0]

    def answer_text(self, ids: list[int]) -> str:
        """The answer text of generated ids (as `VisionLanguageModel.generate_text` gives it)."""
        with self._tokenizer_lock:
            return self.vlm.answer_text(ids)

    # -- admission ---------------------------------------------------------------------

    @property
    def _running(self) -> int:
        """Jobs generating (a job that has ended frees its place at once)."""
        return sum(not job.done for job in self._active)

    def status(self) -> dict:
        """Requests generating, waiting and being read; prompt batches prefilled, decoding
        steps and rows decoded (rows / steps: the mean batch); jobs ended, by reason."""
        with self._cond:
            return {
                "running": self._running,
                "waiting": len(self._waiting),
                "reading": self._reserved,
                "batching": "continuous" if self.continuous else "per batch",
                "prefills": self.prefills,
                "decode_steps": self.steps,
                "decoded_rows": self.rows,
                "finished": dict(self.finished),
            }

    def _retry_after(self) -> int:
        rounds = 1 + len(self._waiting) / self.settings.max_batch_size
        return max(1, min(60, math.ceil(self._job_seconds * rounds)))

    @contextmanager
    def reserve(self):
        """A place for one request, held until the block ends or `submit` fills it with a
        job; 429 (with Retry-After) when every place is taken."""
        capacity = self.settings.max_batch_size + self.settings.max_queue
        with self._cond:
            if self._stopping:
                raise _shutting_down()
            if self._reserved + len(self._waiting) + self._running >= capacity:
                raise busy(
                    self._retry_after(),
                    f"the server is busy: {self._running} requests generating, {len(self._waiting)} waiting and "
                    f"{self._reserved} arriving fill its {capacity} places (--max-batch-size "
                    f"{self.settings.max_batch_size} + --max-queue {self.settings.max_queue}); retry later",
                )
            self._reserved += 1
        place = {"held": True}
        try:
            yield place
        finally:
            if place["held"]:
                with self._cond:
                    self._reserved -= 1
                    self._cond.notify_all()

    def submit(self, place: dict, job: Job) -> None:
        """Queues `job` in the place `reserve` gave."""
        with self._cond:
            place["held"] = False
            self._reserved -= 1
            job.queued_at = time.monotonic()
            self._waiting.append(job)
            self._cond.notify_all()

    # -- the worker --------------------------------------------------------------------

    def start(self) -> None:
        """Starts the worker thread."""
        self._thread = threading.Thread(target=self._work, name="instructvl-serve-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the worker and fails the jobs still waiting or generating (503)."""
        with self._cond:
            self._stopping = True
            waiting, self._waiting = list(self._waiting), deque()
            self._cond.notify_all()
        self._ended(self._fail(waiting, _shutting_down()))
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _work(self) -> None:
        batch = RunningBatch(self.vlm)
        while (jobs := self._take(len(batch))) is not None:
            if self.continuous:
                self._advance(batch, jobs)
            else:
                self._generate(jobs)
        self._ended(self._fail(batch.jobs, _shutting_down()))

    def _take(self, running: int) -> list[Job] | None:
        """The jobs that join now, oldest first, up to the free places ([] while the running
        ones just go on), or None when stopping. An idle engine waits up to `batch_wait`
        for requests still being read or prepared, so that requests arriving together start
        together; one batch at a time, only jobs sampling like the oldest join it."""
        with self._cond:
            while not self._stopping:
                self._drop_stale()
                free = self.settings.max_batch_size - running
                if running and (free == 0 or not self._waiting):
                    return []
                if not self._waiting:
                    self._cond.wait(timeout=1.0)
                    continue
                first = self._waiting[0]
                group = [j for j in self._waiting if self.continuous or j.sampling == first.sampling][:free]
                left = first.queued_at + self.settings.batch_wait - time.monotonic()
                if not running and self._reserved and len(group) < free and left > 0:
                    self._cond.wait(timeout=left)  # requests are arriving: let them join the first batch
                    continue
                for job in group:
                    self._waiting.remove(job)
                self._active = [job for job in self._active if not job.done] + group
                return group
            return None

    def _drop_stale(self) -> None:
        now = time.monotonic()
        for job in [j for j in self._waiting if j.stale(now)]:
            self._waiting.remove(job)
            job.finish(job.stale(now))
            self.finished[job.reason] += 1

    def _prompts(self, jobs: list[Job]):
        """The jobs' prompts as one left-padded batch (their pixel values already made)."""
        pixels = {key: p for job in jobs for key, p in zip(job.sample.images, job.pixels)}
        collator = self.vlm.collator(load_pixels=lambda keys: torch.stack([pixels[k] for k in keys]))
        with self._tokenizer_lock:
            return collator.prompt_batch([job.sample for job in jobs])

    def _advance(self, batch: RunningBatch, joining: list[Job]) -> None:
        """One round of continuous batching: `joining` jobs are prefilled into the batch,
        then every job gets a token. A fault fails the whole batch, never the server."""
        try:
            with torch.inference_mode():
                if joining:
                    batch.join(joining, self._prompts(joining))
                    self.prefills += 1
                if len(batch):
                    rows = len(batch)
                    self._ended(batch.step(self.eos_ids, time.monotonic()), steps=1, rows=rows)
        except Exception as exc:  # noqa: BLE001 - a fault in generation fails its batch, never the server
            held = batch.clear()
            jobs = held + [job for job in joining if job not in held]
            self._ended(self._fail(jobs, self._error(exc, jobs)))

    def _generate(self, jobs: list[Job]) -> None:
        """One batch through `generate`, to the end of its longest answer."""
        stops = _EachJobStops(jobs, self.eos_ids)
        try:
            options = jobs[0].sampling.options(max(job.max_tokens for job in jobs))
            with torch.inference_mode():
                self.vlm.generate(self._prompts(jobs), stopping_criteria=StoppingCriteriaList([stops]), **options)
            self.prefills += 1
        except Exception as exc:  # noqa: BLE001 - a fault in generation fails its batch, never the server
            self._fail(jobs, self._error(exc, jobs))
        for job in jobs:
            if not job.done:  # the batch's longest max_tokens ended it
                job.finish("length")
        self._ended(jobs, steps=stops.steps, rows=stops.steps * len(jobs))

    @staticmethod
    def _error(exc: Exception, jobs: list[Job]) -> APIError:
        if isinstance(exc, InstructVLError):
            return bad_request(str(exc))
        log.error("generation failed for %s", [job.rid for job in jobs], exc_info=exc)
        return internal()

    def _ended(self, jobs: list[Job], steps: int = 0, rows: int = 0) -> None:
        now = time.monotonic()
        with self._cond:
            self.steps += steps
            self.rows += rows
            for job in jobs:
                self.finished[job.reason] += 1
                self._job_seconds = 0.8 * self._job_seconds + 0.2 * (now - job.queued_at)
            self._cond.notify_all()

    @staticmethod
    def _fail(jobs: list[Job], error: APIError) -> list[Job]:
        """Fails the jobs not done yet with `error`; returns them."""
        failed = [job for job in jobs if not job.done]
        for job in failed:
            job.fail(error)
        return failed
