"""Study grids: validation errors name the bad key; expansion into training configs."""

import pytest

from instructvl.errors import InstructVLError
from instructvl.study.expand import plan_study
from instructvl.study.grid import list_studies
from tests.study.conftest import tiny_grid, write_grid


def _error(tmp_path, parts, suite, **changes) -> str:
    with pytest.raises(InstructVLError) as exc:
        plan_study(str(write_grid(tmp_path, tiny_grid(parts, suite, tmp_path, **changes))))
    return str(exc.value)


def test_unknown_keys_are_named_with_the_valid_ones(tiny_parts, study_suite, tmp_path):
    grid = tiny_grid(tiny_parts, study_suite, tmp_path)
    message = _error(tmp_path, tiny_parts, study_suite, seed=[1])
    assert "unknown key 'seed'" in message and "'seeds'" in message
    cells = [dict(grid["cells"][0], stages={"steps": 3}), grid["cells"][1]]
    message = _error(tmp_path, tiny_parts, study_suite, cells=cells)
    assert "unknown key 'cells.0.stages'" in message and "'stage'" in message
    cells = [dict(grid["cells"][0], stage={"trainable": {"llmm": "full"}}), grid["cells"][1]]
    message = _error(tmp_path, tiny_parts, study_suite, cells=cells)
    assert "cell 'qformer'" in message and "unknown key 'trainable.llmm'" in message and "'llm_layers'" in message
    cells = [dict(grid["cells"][0], model_overrides=["head.kind=mlp"]), grid["cells"][1]]
    message = _error(tmp_path, tiny_parts, study_suite, cells=cells)
    assert "cell 'qformer'" in message and "unknown key 'head.kind'" in message
    cells = [dict(grid["cells"][0], evaluation={"limits": 3}), grid["cells"][1]]
    assert "unknown key 'limits'" in _error(tmp_path, tiny_parts, study_suite, cells=cells)


def test_bad_values_and_references(tiny_parts, study_suite, tmp_path):
    grid = tiny_grid(tiny_parts, study_suite, tmp_path)
    assert "repeated: ['qformer']" in _error(tmp_path, tiny_parts, study_suite, cells=[grid["cells"][0]] * 2)
    assert "unknown cells ['nope']" in _error(tmp_path, tiny_parts, study_suite, reference="nope")
    base = dict(grid["base"], train={"seed": 3})
    assert "base.train cannot set ['seed']" in _error(tmp_path, tiny_parts, study_suite, base=base)
    cells = [dict(grid["cells"][0], analyses=["probez"]), grid["cells"][1]]
    assert "unknown analysis 'probez'" in _error(tmp_path, tiny_parts, study_suite, cells=cells)
    series = [{"name": "s", "x": "model.llm.nope", "cells": ["qformer", "mlp"]}]
    assert "'model.llm.nope' is not a key" in _error(tmp_path, tiny_parts, study_suite, series=series)
    claim = {"claim": "c", "source": "s", "cell": "qformer", "versus": "mlp", "measure": "groups.held-out"}
    assert "unknown cells ['nope']" in _error(tmp_path, tiny_parts, study_suite, claims=[dict(claim, versus="nope")])
    assert "claims.0.measure" in _error(tmp_path, tiny_parts, study_suite, claims=[dict(claim, measure="held-out")])
    path = write_grid(tmp_path, grid)
    with pytest.raises(InstructVLError, match="unknown cells \\['x'\\]"):
        plan_study(str(path), cells=["x"])
    with pytest.raises(InstructVLError, match="--seeds must be between 1 and 2"):
        plan_study(str(path), seeds=3)
    with pytest.raises(InstructVLError, match="unknown study 'nope'.*families"):
        plan_study("nope")


def test_expansion_seeds_scale_and_selection(tiny_parts, study_suite, tmp_path):
    path = write_grid(tmp_path, tiny_grid(tiny_parts, study_suite, tmp_path))
    plan = plan_study(str(path), out=tmp_path / "out")
    assert [(r.cell, r.seed) for r in plan.runs] == [("qformer", 0), ("mlp", 0), ("qformer", 1), ("mlp", 1)]
    run = plan.runs[1]
    assert run.config.seed == run.config.model.seed == 0 and plan.runs[3].config.model.seed == 1
    assert run.config.model.head.type == "mlp" and run.config.stages[0].trainable.head is False
    assert run.config.stages[0].data.datasets == ["vqa", "coco-cap"] and run.config.data_dir == str(study_suite)
    assert run.train_dir == tmp_path / "out" / "mlp" / "seed-0" / "train"
    assert run.estimated_seconds() == 2 * 1.0 + 2 * 2 * 0.5 + 2.0
    assert plan.runs[0].estimated_seconds() == 2 * 1.0 + 2 * 2 * 0.5 + 2.0 + 10.0
    small = plan_study(str(path), scale=0.25, seeds=1, cells=["mlp"])
    assert [(r.cell, r.seed) for r in small.selected] == [("mlp", 0)] and len(small.runs) == 4
    assert small.out.name == "tiny-x0.25" and small.selected[0].evaluation.limit == 1
    big = plan_study(str(path), scale=10)
    stage = big.runs[0].config.stages[0]
    assert (stage.steps, stage.warmup_steps, big.runs[0].evaluation.limit, big.runs[0].analysis.scale) == (
        20,
        10,
        20,
        10.0,
    )


def test_shipped_grids_expand_to_the_intended_configs():
    assert {"families", "instructblip-ablations", "comparative-ablations", "layers"} <= set(list_studies())
    cfg = {name: {r.cell: r.config for r in plan_study(name).runs if r.seed == 0} for name in list_studies()}
    fam = cfg["families"]
    assert fam["instructblip"].model.head.type == "instructblip-qformer" and fam["blip2"].model.head.type == "qformer"
    assert (fam["llava-linear"].model.head.type, fam["llava-mlp"].model.head.type) == ("linear", "mlp")
    frozen = fam["minigpt4"].stages[0].trainable
    assert (
        fam["minigpt4"].model.head.type == "qformer" and not frozen.head and frozen.projector and frozen.llm == "frozen"
    )
    abl = cfg["instructblip-ablations"]
    assert (
        abl["caption-only"].stages[0].data.mode == "caption-only"
        and abl["multitask"].stages[0].data.mode == "multitask"
    )
    assert abl["no-balancing"].stages[0].data.rule == "size" and abl["no-balancing"].stages[0].data.factors == {}
    assert abl["no-instruction-aware"].model.head.type == "qformer" and abl["full"].stages[0].data.rule == "sqrt"
    comp = cfg["comparative-ablations"]
    assert comp["vision-small"].model.vision.source == "synthvl-clip:small"
    assert comp["llm-lora"].model.llm.lora.r == 8 and comp["llm-lora"].stages[0].trainable.llm == "lora"
    assert comp["llm-full"].stages[0].trainable.llm == "full" and comp["no-head"].model.head.type == "linear"
    assert [len(comp[c].stages[0].data.datasets or range(13)) for c in ("data-3", "data-6", "baseline")] == [3, 6, 13]
    lay = cfg["layers"]
    assert [lay[f"inject-{k}"].model.llm.inject_layer for k in (0, 5, 10, 15, 20)] == [0, 5, 10, 15, 20]
    assert (
        lay["tune-middle"].stages[0].trainable.llm_layers == (10, 20)
        and lay["tune-all"].stages[0].trainable.llm == "full"
    )
    analysed = {c.name: c.analyses for c in plan_study("layers").grid.cells if c.analyses}
    assert analysed == {"inject-0": ["probes", "interventions"], "inject-10": ["probes"]}


@pytest.mark.parametrize("name", ["families", "instructblip-ablations", "comparative-ablations", "layers"])
def test_every_cell_of_a_shipped_study_is_a_valid_config(name):
    # e.g. a linear / mlp cell on tiny-offline must drop the preset's BLIP-2 head.init
    plan = plan_study(name)
    assert len(plan.runs) == len(plan.grid.cells) * len(plan.grid.seeds)
