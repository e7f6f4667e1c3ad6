"""FSDP (torch FSDP2) on two CPU processes (gloo, launched by torchrun): the same losses,
validation losses and final weights as one process with the same global batch, with and
without gradient accumulation, while the frozen / trainable split changes between stages;
and a resumed sharded run continues exactly like an uninterrupted one."""

import json

import pytest
import torch

from instructvl.models.vlm import VisionLanguageModel
from tests.train.conftest import NAMES, train_dict
from tests.train.test_distributed import _interrupted_copy, _losses, _train


def _two_stages(parts, suite, steps: tuple[int, int], **top) -> dict:
    """Stage 1 trains head + projector; stage 2 also LLM layers 1 and 2, so FSDP units hold
    frozen and trainable parameters and requires_grad changes after sharding."""
    cfg = train_dict(parts, suite, **top)
    data = {"datasets": NAMES}
    cfg["stages"] = [
        {"name": "s1", "steps": steps[0], "lr": 1e-2, "warmup_steps": 1, "data": data},
        {
            "name": "s2",
            "steps": steps[1],
            "lr": 1e-3,
            "warmup_steps": 1,
            "data": data,
            "trainable": {"llm": "layers", "llm_layers": [1, 3]},
        },
    ]
    return cfg


def _records(run_dir, key: str) -> dict[int, float]:
    rows = map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines())
    return {r["step"]: r[key] for r in rows if key in r}


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: p.detach() for k, p in model.named_parameters()}


def _saved(run_dir) -> dict[str, torch.Tensor]:
    """Every weight of the model saved in `run_dir`, loaded the way users load it."""
    return _weights(VisionLanguageModel.from_pretrained(run_dir / "model"))


def _unit(key: str) -> str:
    """An LLM layer's prefix for its weights, else the top-level module."""
    parts = key.split(".")
    return ".".join(parts[:5]) if key.startswith("llm.model.model.layers.") else parts[0]


@pytest.fixture(scope="module")
def one_process(tiny_parts, tiny_suite, tmp_path_factory):
    """A one-process run with a global batch of 8 (the reference)."""
    tmp = tmp_path_factory.mktemp("fsdp-one")
    _train(_two_stages(tiny_parts, tiny_suite, (2, 2), batch_size=8, eval_every=4), tmp / "one", tmp, 1)
    return tmp / "one"


@pytest.mark.parametrize("per_process_batch,accum", [(4, 1), (2, 2)])
def test_fsdp_two_processes_match_one(one_process, tiny_parts, tiny_suite, tmp_path, per_process_batch, accum):
    cfg = _two_stages(
        tiny_parts, tiny_suite, (2, 2), batch_size=per_process_batch, grad_accum=accum, eval_every=4, distributed="fsdp"
    )
    _train(cfg, tmp_path / "two", tmp_path, 2)
    two = tmp_path / "two"
    assert json.loads((two / "environment.json").read_text())["world_size"] == 2
    assert len(_losses(two)) == 4
    assert _losses(two) == pytest.approx(_losses(one_process), abs=1e-5)
    assert _records(two, "grad_norm") == pytest.approx(_records(one_process, "grad_norm"), abs=1e-5)
    assert sorted(_records(two, "val_loss")) == [0, 4]
    assert _records(two, "val_loss") == pytest.approx(_records(one_process, "val_loss"), abs=1e-5)
    a, b = _saved(one_process), _saved(two)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key
    # what trained moved and what stayed frozen did not (the comparison covers both)
    fresh = _weights(VisionLanguageModel.build(VisionLanguageModel.from_pretrained(two / "model").config))
    moved = {_unit(k) for k in b if not torch.equal(b[k], fresh[k])}
    assert moved == {"projector", "llm.model.model.layers.1", "llm.model.model.layers.2"}  # the mlp head has no weights


def test_fsdp_resume_is_exact(tiny_parts, tiny_suite, tmp_path):
    """Resumed from the checkpoint in the middle of stage 2 (LLM layers training), the run
    gives the losses and final weights of the uninterrupted run; the checkpoint holds
    whole (unsharded) weights and optimizer state keyed by parameter name."""
    cfg = _two_stages(tiny_parts, tiny_suite, (3, 3), batch_size=2, save_every=2, keep_last=5, distributed="fsdp")
    _train(cfg, tmp_path / "ref", tmp_path, 2)
    resumed = _interrupted_copy(tmp_path / "ref", tmp_path / "resumed", "ckpt-0000006")
    state = torch.load(resumed / "ckpt-0000004" / "trainer_state.pt", weights_only=True)
    assert (state["stage"], state["stage_step"]) == (1, 1)
    key = "llm.model.model.layers.1.mlp.down_proj.weight"
    assert state["optimizer"]["state"][key]["exp_avg"].shape == (64, 128)  # whole, not a shard
    _train(cfg, resumed, tmp_path, 2)
    ref, again = _records(tmp_path / "ref", "loss"), _records(resumed, "loss")
    assert sorted(again) == list(range(1, 7))
    assert [again[s] for s in range(1, 7)] == pytest.approx([ref[s] for s in range(1, 7)], abs=1e-6)
    a, b = _saved(tmp_path / "ref"), _saved(resumed)
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_distributed_is_a_config_key_and_override(tiny_parts, tiny_suite, tmp_path):
    import yaml

    from instructvl.errors import InstructVLError
    from instructvl.train.config import load_train_config

    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(train_dict(tiny_parts, tiny_suite)))
    assert load_train_config(str(path)).distributed == "ddp"
    assert load_train_config(str(path), ["distributed=fsdp"]).distributed == "fsdp"
    with pytest.raises(InstructVLError):
        load_train_config(str(path), ["distributed=zero3"])
