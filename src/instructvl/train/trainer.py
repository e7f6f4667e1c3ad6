"""The training loop: stages in order, each with its freeze policy, optimizer, schedule and
mixture; global-token loss averaging (so accumulation and several processes give the same
gradient as one big batch); atomic checkpoints; exact resume; NaN guard; progress."""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import yaml

from instructvl.config.loader import validate
from instructvl.errors import InstructVLError
from instructvl.models.freeze import apply_freeze_policy
from instructvl.models.vlm import VisionLanguageModel
from instructvl.provenance import environment
from instructvl.train import checkpoint as ckpt
from instructvl.train.config import OUTPUT_ONLY_KEYS, StageConfig, TrainConfig, load_saved_config, training_changes
from instructvl.train.distributed import Processes, clip_gradients
from instructvl.train.metrics_log import MetricsLog
from instructvl.train.optim import build_optimizer


@dataclass
class TrainResult:
    """What a finished run reports (also written to `train_summary.json`)."""

    run_dir: str
    steps: int
    seconds: float
    first_loss: float | None
    last_loss: float | None
    val_loss: dict[str, float] = field(default_factory=dict)
    first_val_loss: dict[str, float] = field(default_factory=dict)
    skipped_samples: int = 0
    resumed_from: str | None = None


def _stage_seed(seed: int, index: int) -> int:
    return seed * 1000 + index


class _Bar:
    """A bar of the training display (`progress`, None for none) that counts samples and
    shows a running loss and the rate; `close` removes it."""

    def __init__(self, progress, name: str, total: int) -> None:
        self.progress, self.done, self.start = progress, 0, time.perf_counter()
        self.task = None if progress is None else progress.add_task(name, total=total, loss="-", lr="-", rate="-")

    def advance(self, n: int, loss: float) -> None:
        """Counts `n` more samples, with the loss so far."""
        self.done += n
        if self.task is not None:
            rate = self.done / max(time.perf_counter() - self.start, 1e-9)
            self.progress.update(self.task, advance=n, loss=f"{loss:.3f}", rate=f"{rate:.1f}")

    def close(self) -> None:
        """Removes the bar from the display."""
        if self.task is not None:
            self.progress.remove_task(self.task)


class Trainer:
    """Runs a `TrainConfig` into `run_dir`. With `resume` (the default) an existing run
    continues from its last complete checkpoint, with the very config it was started with:
    a config that would train differently (any model or training key but the output-only
    `OUTPUT_ONLY_KEYS`) is refused, listing each differing key with its old and new value,
    and the run's `config.yaml` is never rewritten. More steps are refused too: the cosine
    schedule of the steps already taken depends on the total, so they cannot be continued
    exactly. The config (stage mixtures, feature cache) is checked before any model is
    built or file written."""

    def __init__(
        self, cfg: TrainConfig, run_dir: str | Path, console=None, resume: bool = True, tensorboard: bool = True
    ) -> None:
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.procs = Processes(cfg.distributed)
        self.console = console if self.procs.main else None
        self.resume = resume
        self.tensorboard = tensorboard and self.procs.main
        self.model: VisionLanguageModel | None = None

    # -- setup -------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text)

    def _data_dir(self) -> Path:
        if self.cfg.data_dir:
            path = Path(self.cfg.data_dir)
            if not (path / "manifest.json").is_file():
                raise InstructVLError(
                    f"data_dir {path} has no manifest.json: generate it with `instructvl data synth --out {path}`"
                )
            return path
        from instructvl.data.synthvl.cache import default_suite

        return default_suite(announce=self._say)

    def _write_run_files(self, fresh: bool) -> None:
        """environment.json, and config.yaml for a `fresh` run only: a resumed run keeps
        the record of the config that trained it."""
        if not self.procs.main:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if fresh:
            config = yaml.safe_dump(self.cfg.model_dump(mode="json"), sort_keys=False)
            (self.run_dir / "config.yaml").write_text(config)
        env = environment() | {"world_size": self.procs.world}
        (self.run_dir / "environment.json").write_text(json.dumps(env, indent=2))

    def _resume_state(self) -> tuple[Path | None, dict | None]:
        found = ckpt.checkpoints(self.run_dir) if self.resume else []
        if not found:
            return None, None
        latest = found[-1]
        state = ckpt.load_state(latest)
        advice = "use another --out, or --no-resume to start over"
        try:
            changes = training_changes(self._recorded_config(latest, state), self.cfg)
        except InstructVLError as exc:
            raise InstructVLError(f"cannot resume {self.run_dir} from {latest.name}: {exc} ({advice})") from None
        if changes:
            raise InstructVLError(
                f"cannot resume {self.run_dir}: the config differs from the one its checkpoint {latest.name} was "
                "trained with in\n  " + "\n  ".join(changes) + "\nA resumed run continues the same training "
                f"(only {', '.join(OUTPUT_ONLY_KEYS)} may change): {advice}"
            )
        return latest, state

    def _recorded_config(self, latest: Path, state: dict) -> TrainConfig:
        """The config a checkpoint was trained with: the one its state records, else (a
        checkpoint from before states held it) the run's config.yaml; both read through
        the current schema, so settings added since take their defaults."""
        if "config" not in state:
            return load_saved_config(self.run_dir / "config.yaml")
        return validate(TrainConfig, state["config"], f"({latest / ckpt.STATE_FILE})")  # type: ignore[return-value]

    # -- one optimizer step --------------------------------------------------------------

    def _micro_batches(self, stream, collator) -> tuple[list, list[str]]:
        cfg, procs = self.cfg, self.procs
        per_rank = cfg.batch_size * cfg.grad_accum
        drawn = [stream.next() for _ in range(per_rank * procs.world)]
        mine = drawn[procs.rank * per_rank : (procs.rank + 1) * per_rank]
        batches = [
            collator.train_batch(mine[j * cfg.batch_size : (j + 1) * cfg.batch_size]) for j in range(cfg.grad_accum)
        ]
        if procs.world > 1 and any(b is None for b in batches):
            raise InstructVLError(
                "a micro-batch has no target token at all; with several processes every micro-batch must train"
            )
        return [b for b in batches if b is not None], [s.id for s in mine]

    def _autocast(self):
        device = self.procs.device
        if device.type == "cuda" and self.cfg.precision in ("auto", "bf16"):
            return torch.autocast("cuda", dtype=torch.bfloat16)
        if self.cfg.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _step(self, wrapped, stream, collator, optimizer, scheduler, step: int) -> dict:
        model, procs = self.model, self.procs
        batches, ids = self._micro_batches(stream, collator)
        total_tokens = procs.sum(sum(model.num_targets(b) for b in batches))
        if total_tokens == 0:
            raise InstructVLError(f"step {step}: no target token in the whole batch (samples {ids})")
        loss_sum = 0.0
        for j, batch in enumerate(batches):
            with procs.gradient_sync(wrapped, sync=j == len(batches) - 1), self._autocast():
                out = wrapped(batch.to(procs.device))
                (out.loss_sum * (procs.world / total_tokens)).backward()
            loss_sum += float(out.loss_sum.detach())
        loss = procs.sum(loss_sum) / total_tokens
        if not math.isfinite(loss):
            last = ckpt.checkpoints(self.run_dir)
            raise InstructVLError(
                f"loss is {loss} at step {step} (batch samples {ids}); stopped before the update. "
                f"Last good checkpoint: {last[-1] if last else 'none yet'}"
            )
        params = [p for p in model.parameters() if p.requires_grad]
        norm = clip_gradients(params, self.cfg.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        n = self.cfg.batch_size * self.cfg.grad_accum * procs.world
        return {
            "loss": loss,
            "grad_norm": norm,
            "lr": scheduler.get_last_lr()[0],
            "samples": n,
            "tokens": int(total_tokens),
        }

    # -- validation --------------------------------------------------------------------

    def _validation_sets(self, data_dir: Path, stage: StageConfig, names: list[str]) -> dict[str, list]:
        """The first `eval_samples_per_dataset` val samples of each named dataset."""
        from instructvl.data.synthvl.loader import load_split

        n = self.cfg.eval_samples_per_dataset
        mode, seed = stage.data.mode, self.cfg.seed
        return {name: load_split(data_dir, name, "val", mode=mode, seed=seed, with_target=True)[:n] for name in names}

    @torch.no_grad()
    def validate(self, data_dir: Path, stage: StageConfig, names: list[str], progress=None) -> dict[str, float]:
        """Token-weighted LM loss on the `_validation_sets` of the stage's datasets, per
        dataset and overall, in batches of `eval_batch_size`; with a rich `progress`, a
        bar (samples done, running loss, rate) shows while it runs."""
        model = self.model
        was_training = model.training
        model.eval()
        collator = model.collator(max_length=self.cfg.max_length)
        sets = self._validation_sets(data_dir, stage, names)
        size = self.cfg.eval_batch_size
        bar = _Bar(progress, "validation", sum(len(samples) for samples in sets.values()))
        out, total, count = {}, 0.0, 0
        for name, samples in sets.items():
            d_sum, d_count = 0.0, 0
            for chunk in (samples[i : i + size] for i in range(0, len(samples), size)):
                batch = collator.train_batch(chunk)
                if batch is not None:
                    with self._autocast():
                        res = model(batch.to(self.procs.device))
                    d_sum, d_count = d_sum + float(res.loss_sum), d_count + res.num_tokens
                bar.advance(len(chunk), (total + d_sum) / max(count + d_count, 1))
            if d_count:
                out[f"val_loss/{name}"] = d_sum / d_count
                total, count = total + d_sum, count + d_count
        out["val_loss"] = total / max(count, 1)
        bar.close()
        model.train(was_training)
        return out

    # -- the run -----------------------------------------------------------------------

    def _progress(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        return Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  lr {task.fields[lr]}  {task.fields[rate]} samples/s"),
            TimeRemainingColumn(),
            console=self.console,
            disable=self.console is None,
        )

    def _checkpoint(self, step: int, stage_index: int, stage_step: int, optimizer, scheduler, stream) -> None:
        rngs = self.procs.gather(ckpt.rng_state())  # every rank's own RNG (dropout differs per rank)
        weights = self.procs.full_weights(self.model)  # collectives when sharded: on every rank
        optimizer_state = self.procs.optimizer_state(self.model, optimizer)
        if self.procs.main:
            state = {
                "step": step,
                "stage": stage_index,
                "stage_step": stage_step,
                "optimizer": optimizer_state,
                "scheduler": scheduler.state_dict(),
                "stream": stream.state_dict(),
                "rng": rngs,
                "config": self.cfg.model_dump(mode="json"),
            }
            ckpt.save_checkpoint(self.run_dir, step, self.model, state, self.cfg.keep_last, weights)
        self.procs.barrier()

    def _check_plan(self, data_dir: Path) -> None:
        """Refuses, before any model is built or file written, what the run could not do:
        a stage mixture the suite cannot give (a held-out, unknown or empty dataset,
        missing weights; the error names the stage) and a feature cache it cannot use."""
        from instructvl.data.synthvl.suite import training_mixture

        for index, stage in enumerate(self.cfg.stages):
            mix = stage.data
            try:
                training_mixture(
                    data_dir,
                    mix.datasets,
                    rule=mix.rule,
                    seed=_stage_seed(self.cfg.seed, index),
                    factors=mix.factors,
                    weights=mix.weights,
                    mode=mix.mode,
                )
            except InstructVLError as exc:
                raise InstructVLError(f"stages.{index}.data (stage {stage.name!r}): {exc}") from None
        if not self.cfg.feature_cache:
            return
        if any(stage.trainable.vision for stage in self.cfg.stages):
            raise InstructVLError("feature_cache needs a frozen vision tower, but a stage trains it (trainable.vision)")
        if self.procs.sharded:
            raise InstructVLError(
                "feature_cache runs the vision tower outside the model's forward, which a sharded model cannot do: "
                "use distributed: ddp"
            )

    def _feature_cache(self):
        """The frozen-feature cache when `feature_cache` is on (`_check_plan` allowed it)."""
        if not self.cfg.feature_cache:
            return None
        from instructvl.train.feature_cache import FeatureCache

        return FeatureCache(self.model.vision)

    def _rank_rng(self, saved) -> dict:
        """This rank's RNG state from a checkpoint's per-rank list (a single state: older
        checkpoints). Resuming on a different number of processes changes the data split,
        so it cannot be exact; every rank then takes rank 0's state, and a warning says so."""
        states = saved if isinstance(saved, list) else [saved]
        if len(states) == self.procs.world:
            return states[self.procs.rank]
        if self.console is not None and self.procs.main:
            self.console.print(
                f"[yellow]checkpoint taken with {len(states)} process(es), resuming with "
                f"{self.procs.world}: the run continues but is not an exact resume[/]"
            )
        return states[0]

    def _open_stage(self, index: int, stage: StageConfig, data_dir: Path, state: dict | None):
        """Freeze policy, optimizer, schedule and data stream of a stage; restored from
        `state` when a resumed checkpoint was taken inside this stage."""
        from instructvl.data.synthvl.suite import TrainingStream

        cfg = self.cfg
        apply_freeze_policy(self.model, stage.trainable, console=self.console)
        if cfg.gradient_checkpointing:
            self.model.llm.model.activation_checkpointing_enable(
                activation_checkpointing_kwargs={"use_reentrant": False}
            )
        optimizer, scheduler = build_optimizer(self.model, stage, cfg)
        stream = TrainingStream.open(
            data_dir,
            stage.data.datasets,
            mode=stage.data.mode,
            seed=_stage_seed(cfg.seed, index),
            rule=stage.data.rule,
            factors=stage.data.factors,
            weights=stage.data.weights,
        )
        stage_step = 0
        if state is not None:
            ckpt.set_rng_state(self._rank_rng(state["rng"]))
            if state["stage_step"] > 0:
                self.procs.load_optimizer_state(self.model, optimizer, state["optimizer"])
                scheduler.load_state_dict(state["scheduler"])
                stream.load_state_dict(state["stream"])
                stage_step = state["stage_step"]
        return optimizer, scheduler, stream, stage_step

    def run(self) -> TrainResult:
        """Trains every stage (continuing a resumed run) and saves the final model to
        `run_dir/model`. Returns the summary."""
        cfg = self.cfg
        latest, state = self._resume_state()
        data_dir = self._data_dir()
        self._check_plan(data_dir)
        self._say(f"building {cfg.model.name}")
        self.model = VisionLanguageModel.build(cfg.model).to(self.procs.device)
        # seeded after the build: a first use that trains the offline tower or converts the
        # GGUF LLM draws random numbers a later run does not (a resume restores its own)
        torch.manual_seed(cfg.seed)
        if latest is not None:
            self.model.load_weights(latest)
            self._say(f"resuming from {latest} (step {state['step']} of {cfg.total_steps})")
        self.procs.shard(self.model)
        self._write_run_files(fresh=latest is None)
        log = MetricsLog(self.run_dir, tensorboard=self.tensorboard) if self.procs.main else None
        if log is not None and state is not None:
            log.truncate_after(state["step"])
        features = self._feature_cache()
        collator = self.model.collator(max_length=cfg.max_length, vision_features=features)
        step = state["step"] if state else 0
        start = time.perf_counter()
        vals: list[dict] = []
        with self._progress() as progress:
            for index, stage in enumerate(cfg.stages):
                if state is not None and index < state["stage"]:
                    continue
                optimizer, scheduler, stream, stage_step = self._open_stage(
                    index, stage, data_dir, state if state and state["stage"] == index else None
                )
                state = None
                names = list(stream.sampler.sizes)
                if features is not None:
                    added = features.ensure([p for samples in stream.data.values() for s in samples for p in s.images])
                    self._say(
                        f"vision feature cache: {added} images encoded, {len(features.rows)} cached in {features.dir}"
                    )
                self.model.train()
                wrapped = self.procs.wrap(self.model)
                task = progress.add_task(
                    stage.name, total=stage.steps, completed=stage_step, loss="-", lr="-", rate="-"
                )
                if cfg.eval_every and step == 0:
                    vals.append(self._validate_and_log(log, data_dir, stage, names, step, progress))
                tick = time.perf_counter()
                while stage_step < stage.steps:
                    record = self._step(wrapped, stream, collator, optimizer, scheduler, step)
                    step, stage_step = step + 1, stage_step + 1
                    now = time.perf_counter()
                    record.update(
                        step=step,
                        stage=index,
                        samples_per_s=record["samples"] / max(now - tick, 1e-9),
                        elapsed_s=now - start,
                    )
                    tick = now
                    if log is not None and step % cfg.log_every == 0:
                        log.write(record)
                    progress.update(
                        task,
                        advance=1,
                        loss=f"{record['loss']:.3f}",
                        lr=f"{record['lr']:.2e}",
                        rate=f"{record['samples_per_s']:.1f}",
                    )
                    last_of_run = index == len(cfg.stages) - 1 and stage_step == stage.steps
                    if cfg.eval_every and (step % cfg.eval_every == 0 or last_of_run):
                        vals.append(self._validate_and_log(log, data_dir, stage, names, step, progress))
                    if stage_step == stage.steps:  # resume starts the next stage afresh
                        self._checkpoint(step, index + 1, 0, optimizer, scheduler, stream)
                    elif cfg.save_every and step % cfg.save_every == 0:
                        self._checkpoint(step, index, stage_step, optimizer, scheduler, stream)
                if self.procs.main:
                    stream.sampler.write_log(self.run_dir / f"mixture_log-{index}-{stage.name}.json")
        return self._finish(log, step, start, vals, collator, latest)

    def _validate_and_log(self, log, data_dir, stage, names, step, progress) -> dict:
        """Validates on the main process (on every process when sharded: the forward
        passes are collectives), with a bar in `progress`; logs and reports it on the
        main one."""
        result = {}
        if self.procs.main or self.procs.sharded:
            start = time.perf_counter()
            result = {"step": step, **self.validate(data_dir, stage, names, progress)}
            seconds = time.perf_counter() - start
        if self.procs.main:
            log.write(result)
            self._say(f"held-in validation at step {step}: loss {result['val_loss']:.4f} ({seconds:.0f} s)")
        self.procs.barrier()
        return result

    def _finish(self, log, step, start, vals, collator, latest) -> TrainResult:
        records = [r for r in log.read() if "loss" in r] if log is not None else []
        strip = lambda v: {k: x for k, x in v.items() if k != "step"}  # noqa: E731
        result = TrainResult(
            run_dir=str(self.run_dir),
            steps=step,
            seconds=time.perf_counter() - start,
            first_loss=records[0]["loss"] if records else None,
            last_loss=records[-1]["loss"] if records else None,
            val_loss=strip(vals[-1]) if vals else {},
            first_val_loss=strip(vals[0]) if vals else {},
            skipped_samples=len(collator.no_target_ids),
            resumed_from=str(latest) if latest else None,
        )
        weights = self.procs.full_weights(self.model)
        if self.procs.main:
            self.model.save_pretrained(self.run_dir / "model", weights)
            (self.run_dir / "train_summary.json").write_text(json.dumps(asdict(result), indent=2))
            log.close()
        self.procs.barrier()
        return result
