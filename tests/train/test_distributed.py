"""Two CPU processes (gloo, launched by torchrun) give the same training as one process
with the same global batch, including with gradient accumulation."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from tests.train.conftest import train_dict

ROOT = Path(__file__).resolve().parents[2]


def _train(cfg: dict, out: Path, tmp: Path, nproc: int) -> None:
    path = tmp / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    launcher = (
        [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
        if nproc > 1
        else [sys.executable]
    )
    run = subprocess.run(
        [*launcher, "-m", "instructvl.cli", "train", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def _losses(run_dir: Path) -> list[float]:
    return [r["loss"] for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if "loss" in r]


@pytest.mark.parametrize("per_process_batch,accum", [(4, 1), (2, 2)])
def test_two_processes_match_one(tiny_parts, tiny_suite, tmp_path, per_process_batch, accum):
    one = train_dict(tiny_parts, tiny_suite, steps=4, batch_size=8, grad_accum=1, save_every=0)
    two = train_dict(tiny_parts, tiny_suite, steps=4, batch_size=per_process_batch, grad_accum=accum, save_every=0)
    _train(one, tmp_path / "one", tmp_path, 1)
    _train(two, tmp_path / "two", tmp_path, 2)
    assert json.loads((tmp_path / "two" / "environment.json").read_text())["world_size"] == 2
    assert _losses(tmp_path / "one") == pytest.approx(_losses(tmp_path / "two"), abs=1e-5)
    a = load_file(str(tmp_path / "one" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "two" / "model" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key


def _interrupted_copy(finished, to, *dropped: str):
    """A copy of the finished run folder `finished` as if it had been killed before writing
    `dropped` (its last checkpoints), the final model and the summary."""
    import shutil

    shutil.copytree(finished, to)
    for name in (*dropped, "model"):
        shutil.rmtree(to / name)
    (to / "train_summary.json").unlink()
    return to


def test_two_process_resume_restores_each_ranks_rng(tiny_parts, tiny_suite, tmp_path):
    """Q-Former head (dropout on): after resuming from step 2, both processes draw the
    dropout masks of the uninterrupted run, so the losses of steps 3 and 4 are equal."""
    cfg = train_dict(
        tiny_parts, tiny_suite, head="instructblip-qformer", steps=4, batch_size=2, save_every=2, keep_last=3
    )
    _train(cfg, tmp_path / "ref", tmp_path, 2)
    resumed = _interrupted_copy(tmp_path / "ref", tmp_path / "resumed", "ckpt-0000004")
    rngs = torch.load(resumed / "ckpt-0000002" / "trainer_state.pt", weights_only=True)["rng"]
    assert len(rngs) == 2 and not torch.equal(rngs[0]["torch"], rngs[1]["torch"])  # one state for both would differ
    _train(cfg, resumed, tmp_path, 2)
    ref = {
        r["step"]: r["loss"]
        for r in map(json.loads, (tmp_path / "ref" / "metrics.jsonl").read_text().splitlines())
        if "loss" in r
    }
    again = {
        r["step"]: r["loss"]
        for r in map(json.loads, (resumed / "metrics.jsonl").read_text().splitlines())
        if "loss" in r
    }
    assert [again[s] for s in (3, 4)] == pytest.approx([ref[s] for s in (3, 4)], abs=1e-6)
