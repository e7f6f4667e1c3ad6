"""A tiny 2-cell x 2-seed study end to end: report, numbers, analyses, reuse on rerun."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import transformers
import yaml
from rich.console import Console

from instructvl.errors import InstructVLError
from instructvl.study.expand import plan_study
from instructvl.study.plan import plan_text
from instructvl.study.runner import run_study
from instructvl.train.trainer import Trainer
from tests.study.conftest import tiny_grid, write_grid

REPO = Path(__file__).resolve().parents[2]


def _fake_probes(calls):
    def run_analysis(name, model, data_dir, out_dir, *, seed, scale):
        calls.append((name, seed, scale))
        curve = [0.2 + 0.1 * seed, 0.5, 0.3 * seed]
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{name}.json").write_text(
            json.dumps({"accuracy": {"visual-mean": {"colour": curve}}, "majority": {"colour": 0.25}})
        )
        return {}

    return run_analysis


def test_tiny_study_end_to_end_then_reused(tiny_parts, study_suite, tmp_path, monkeypatch):
    trained, analysed = [], []
    original = Trainer.run
    monkeypatch.setattr(Trainer, "run", lambda self: trained.append(self.run_dir) or original(self))
    monkeypatch.setattr("instructvl.analysis.run_analysis", _fake_probes(analysed))
    grid = tiny_grid(tiny_parts, study_suite, tmp_path)
    grid["claims"] = [
        {"claim": "a head helps", "source": "paper", "cell": "qformer", "versus": "mlp", "measure": "groups.held-out"}
    ]
    plan = plan_study(str(write_grid(tmp_path, grid)), out=tmp_path / "out")
    doc = run_study(plan, Console(quiet=True))

    out = tmp_path / "out"
    for name in ("report.md", "results.json", "groups.png", "task_types.png", "tasks.png", "analysis-probes.png"):
        assert (out / name).is_file(), name
    assert len(trained) == 4 and sorted(analysed) == [("probes", 0, 1.0), ("probes", 1, 1.0)]
    walls = [
        json.loads((out / c / f"seed-{s}" / "done.json").read_text())["wall_s"]
        for c in ("qformer", "mlp")
        for s in (0, 1)
    ]
    assert all(w > 0 for w in walls)
    assert doc["runs"] == {
        "planned": 4,
        "finished": 4,
        "missing": [],
        "wall_seconds": pytest.approx(sum(walls)),
        "timed": 4,
    }
    runs = {
        (c, s): json.loads((out / c / f"seed-{s}" / "eval" / "results.json").read_text())
        for c in ("qformer", "mlp")
        for s in (0, 1)
    }
    for cell in ("qformer", "mlp"):
        held_out = [runs[cell, s]["averages"]["held-out"]["score"] for s in (0, 1)]
        summary = doc["cells"][cell]["groups"]["held-out"]
        assert summary["mean"] == pytest.approx(np.mean(held_out)) and summary["std"] == pytest.approx(
            np.std(held_out, ddof=1)
        )
        vqa = [next(t["score"] for t in runs[cell, s]["tasks"] if t["task"] == "vqa") for s in (0, 1)]
        assert doc["cells"][cell]["tasks"]["vqa"]["mean"] == pytest.approx(np.mean(vqa))
        assert doc["cells"][cell]["task_types"]["open QA"]["mean"] == pytest.approx(np.mean(vqa))
        assert doc["cells"][cell]["train_seconds"]["n"] == 2
        lo, hi = summary["ci"]  # hierarchical: seeds, then samples
        assert lo <= summary["mean"] <= hi and lo <= min(held_out) and max(held_out) <= hi
    assert set(doc["task_type_names"]) == {"binary classification", "open QA"}
    (env_group,) = doc["provenance"]["runs"]  # all four runs made by this code, here
    assert sorted(env_group["runs"]) == ["mlp/seed-0", "mlp/seed-1", "qformer/seed-0", "qformer/seed-1"]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO).stdout.strip()
    for env in (env_group["environment"]["train"], env_group["environment"]["eval"], doc["provenance"]["report"]):
        assert env["git"]["commit"] == commit and env["packages"]["transformers"] == transformers.__version__
    assert f"4 run(s) trained with commit {commit[:10]}" in (out / "report.md").read_text()
    curve = doc["cells"]["qformer"]["analyses"]["probes"]["curves"]["visual-mean: colour"]
    assert curve["x"] == [0, 1, 2] and curve["mean"] == pytest.approx([0.25, 0.5, 0.15])
    assert curve["std"] == pytest.approx(np.std([[0.2, 0.5, 0.0], [0.3, 0.5, 0.3]], axis=0, ddof=1).tolist())
    diff, cells = doc["differences"]["mlp"]["groups"]["held-out"], doc["cells"]
    assert diff["diff"] == pytest.approx(
        cells["mlp"]["groups"]["held-out"]["mean"] - cells["qformer"]["groups"]["held-out"]["mean"]
    )
    (claim,) = doc["claims"]  # qformer > mlp: the reverse of mlp's difference from qformer
    assert claim["difference"]["diff"] == pytest.approx(-diff["diff"])
    expected = {"lower": "agrees", "higher": "disagrees", "same": "no difference", "inconclusive": "inconclusive"}[
        diff["verdict"]
    ]
    assert claim["difference"]["ci"] == pytest.approx([-diff["ci"][1], -diff["ci"][0]])  # the same paired draws
    assert claim["verdict"] == expected
    report = (out / "report.md").read_text()
    assert "| qformer | instruction-aware Q-Former | 2 | 2 x 2 |" in report and "Differences from `qformer`" in report
    assert "## Analysis: probes" in report and "vsr (top1)" in report
    assert (
        "## The papers' claims against this study" in report
        and "| a head helps | paper | `qformer` > `mlp` | groups: held-out |" in report
    )
    assert f"**{expected}** |" in report

    # a rerun reuses every run; a run whose evaluation was lost is re-evaluated, not retrained
    assert "| mlp | 0,1 |" in plan_text(plan) and "estimated time: 0 s for the 0 runs" in plan_text(plan)
    # a run finished before a setting was added (saved config and done.json without it) is still finished
    saved = out / "qformer" / "seed-0" / "train" / "config.yaml"
    old_config = yaml.safe_load(saved.read_text())
    del old_config["distributed"]  # a setting at its default
    saved.write_text(yaml.safe_dump(old_config))
    done = out / "qformer" / "seed-0" / "done.json"
    older = {k: v for k, v in json.loads(done.read_text()).items() if k != "wall_s"}  # from before wall times were kept
    done.write_text(json.dumps({**older, "train_config": "an older schema's fingerprint"}))
    assert "estimated time: 0 s for the 0 runs" in plan_text(
        plan_study(str(write_grid(tmp_path, grid)), out=tmp_path / "out")
    )
    (out / "mlp" / "seed-1" / "done.json").unlink()
    doc = run_study(plan_study(str(write_grid(tmp_path, grid)), out=tmp_path / "out"), Console(quiet=True))
    assert len(trained) == 4 and len(analysed) == 2
    assert (
        doc["runs"]["timed"] == 3 and "for the 3 of 4 finished runs that recorded it" in (out / "report.md").read_text()
    )

    # the same folder with another config is refused
    grid["base"]["stage"]["lr"] = 2e-3
    (out / "qformer" / "seed-0" / "done.json").unlink()
    with pytest.raises(InstructVLError, match="holds a training run of another config"):
        run_study(
            plan_study(str(write_grid(tmp_path, grid)), out=tmp_path / "out", cells=["qformer"], seeds=1),
            Console(quiet=True),
        )
