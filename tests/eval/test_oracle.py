"""The scene-description oracle: every SynthVL scene kind in words, the oracle prompt (the
text-only prompt plus one description line, no image), refusals before inference, and
an end-to-end oracle run on a tiny model whose run record keeps it apart from the
text-only baseline."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from instructvl.cli import _register, app
from instructvl.data.schema import IMAGE_MARKER, Sample
from instructvl.data.synthvl.generate import Scale, generate_suite
from instructvl.data.synthvl.registry import DATASETS
from instructvl.data.synthvl.scene_text import describe_scene
from instructvl.data.synthvl.scenes import Scene, plural
from instructvl.data.synthvl.video import action_phrase
from instructvl.errors import InstructVLError
from instructvl.eval.harness import evaluate, select_specs
from instructvl.eval.infer import strip_images
from instructvl.eval.oracle import oracle_prompt
from instructvl.eval.prepare import prepare_samples
from instructvl.eval.provenance import model_record
from instructvl.eval.records import read_json, read_jsonl
from tests.eval.conftest import PromptSpy

_register()
quiet = dict(progress=False, announce=lambda m: None)


@pytest.fixture(scope="module")
def every_dataset(tmp_path_factory):
    """All 26 SynthVL datasets, a few samples per split."""
    root = tmp_path_factory.mktemp("synthvl-all")
    generate_suite(root, Scale(train=4, val=3, test=6), seed=11)
    return root


def raw_samples(root):
    for spec in DATASETS:
        for path in sorted((root / spec.name).glob("*.jsonl")):
            yield from (Sample.from_json(json.loads(line)) for line in path.read_text().splitlines())


def assert_names_objects(text: str, scene: Scene) -> None:
    for o in scene.objects:
        assert o.colour in text, (o, text)
        if o.kind in ("sign", "text"):
            assert o.text in text, (o, text)
        else:
            assert o.kind in text or plural(o.kind, 2) in text, (o, text)


def test_every_scene_kind_of_the_suite_is_described(every_dataset):
    styles, clips, damaged = set(), 0, 0
    for sample in raw_samples(every_dataset):
        record = sample.metadata["scene"]
        text = describe_scene(record)
        assert text and text == describe_scene(record), sample.id
        if "event" in record:  # a clip: every frame, then the change
            clips += 1
            base, event = Scene.from_dict(record["base"]), record["event"]
            assert all(f"Frame {k}: " in text for k in range(1, record["frames"] + 1)), text
            assert f"Frame {record['frames'] + 1}:" not in text
            assert_names_objects(text, base)
            subject = base.objects[event["object"]]
            verb = action_phrase(event).split()[-1] if event["type"] in ("move", "recolour") else ""
            assert f"the {subject.name()} " in text.split("Over the frames, ")[1] and verb in text, text
        else:
            scene = Scene.from_dict(record)
            styles.add(scene.style)
            damaged += bool(scene.degrade)
            assert_names_objects(text, scene)
            assert scene.background in text or scene.style == "horizon", text
    assert styles == {"plain", "horizon", "cover", "meme"} and clips and damaged


def test_single_multi_text_and_damaged_scenes_read_as_the_captions_word_them():
    one = {"background": "white", "objects": [{"kind": "circle", "colour": "red", "size": 12, "x": 8, "y": 8}]}
    assert describe_scene(one) == "A white background with one object: a small red circle at the top left."
    icons = [{"kind": "heart", "colour": "red", "size": 13, "x": x, "y": y} for x, y in ((40, 40), (8, 8), (24, 8))]
    sign = {"kind": "sign", "colour": "blue", "size": 20, "x": 32, "y": 58, "text": "CAT"}
    many = {"background": "cream", "objects": [*icons, sign], "degrade": {"blur": 3.0, "occluder": [0, 40, 20, 64]}}
    assert describe_scene(many) == (
        "A cream background with four objects: three small red hearts (at the top left, at the top, in the center) "
        "and a blue sign that says CAT at the bottom. The picture is heavily blurred. "
        "A dark gray box covers part of the picture at the bottom left."
    )


def test_an_unknown_layout_is_named():
    with pytest.raises(InstructVLError, match="'shapes'"):
        describe_scene({"shapes": []})
    with pytest.raises(InstructVLError, match="'colour'"):
        describe_scene({"objects": [], "colour": "red"})
    with pytest.raises(InstructVLError, match="frames"):
        describe_scene({"base": {"objects": []}, "event": {"type": "grow", "object": 0}})


def test_the_oracle_prompt_is_the_text_only_prompt_after_the_description(suite, every_dataset, model):
    for task, data, label in (("gqa", suite, "Image"), ("visdial", suite, "Image"), ("msvd", every_dataset, "Video")):
        spec = select_specs(task)[0]
        for sample in prepare_samples(spec, data, limit=3):
            prompt = oracle_prompt(spec, sample)
            text_only = strip_images(sample)
            description = f"{label} description: {describe_scene(sample.metadata['scene'])}"
            assert sample.images and prompt.images == []
            assert not any(IMAGE_MARKER in t.content for t in prompt.turns)
            assert prompt.turns[0].content == f"{description}\n{text_only.turns[0].content}"
            assert prompt.turns[1:] == text_only.turns[1:]
            assert not any(model.collator().encode(prompt, prompt_only=True).image_mask)


def test_a_real_benchmark_is_refused_before_anything_runs(model, suite, tmp_path):
    with pytest.raises(InstructVLError, match="real-gqa"):
        evaluate(model, "gqa,real-gqa", tmp_path / "run", data=suite, oracle="scene", **quiet)
    assert not (tmp_path / "run").exists()
    result = CliRunner().invoke(app, ["eval", "--tasks", "real-vsr", "--oracle", "scene", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "real-vsr" in str(result.exception)
    with pytest.raises(InstructVLError, match="unknown oracle"):
        evaluate(model, "gqa", tmp_path / "run", data=suite, oracle="caption", **quiet)
    with pytest.raises(InstructVLError, match="no_image"):
        evaluate(model, "gqa", tmp_path / "run", data=suite, oracle="scene", no_image=True, **quiet)


def test_a_sample_without_a_scene_is_refused_before_inference(model, suite, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(suite, data)
    path = data / "memes" / "test.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({**r, "metadata": {**r["metadata"], "scene": None}}) + "\n" for r in rows))
    with pytest.raises(InstructVLError, match=r"task memes: sample memes/test/000000 has no metadata\['scene'\]"):
        evaluate(model, "gqa,memes", tmp_path / "run", limit=2, data=data, oracle="scene", **quiet)
    assert not (tmp_path / "run" / "predictions").exists()


def test_an_oracle_run_records_the_oracle_and_never_shares_a_text_only_folder(model, suite, tmp_path):
    seen = []
    run = tmp_path / "oracle"
    kw = dict(limit=3, data=suite, batch_size=2, **quiet)
    results = evaluate(PromptSpy(model, seen), "gqa,vsr,iconqa", run, oracle="scene", **kw)
    assert len(seen) == 9 and all(s.images == [] and s.turns[0].content.startswith("Image description: ") for s in seen)
    record = read_json(run / "run.json")
    assert record["oracle"] == "scene" and record["no_image"] is False and results["run"]["oracle"] == "scene"
    assert record["model"]["oracle"] == "scene" and set(record["model"]["config"]) == {"llm"}
    assert all(len(read_jsonl(run / "predictions" / f"{t}.jsonl")) == 3 for t in ("gqa", "vsr", "iconqa"))
    assert all(t["score"] is not None for t in results["tasks"])
    assert (
        (run / "report.md")
        .read_text()
        .startswith(
            f"# Evaluation of {record['model']['name']} (scene oracle: images replaced by their scene description)"
        )
    )
    text_only = model_record(model, None, no_image=True)["config_hash"]
    assert len({record["model"]["config_hash"], text_only, model_record(model, None)["config_hash"]}) == 3
    prepare = dict(kw, phases=("prepare",))
    with pytest.raises(InstructVLError, match="oracle='scene', not None"):
        evaluate(model, "gqa", run, **prepare)
    with pytest.raises(InstructVLError, match="no_image=False, not True"):
        evaluate(model, "gqa", run, no_image=True, **prepare)
    evaluate(model, "gqa", tmp_path / "image", **prepare)
    with pytest.raises(InstructVLError, match="oracle=None, not 'scene'"):
        evaluate(model, "gqa", tmp_path / "image", oracle="scene", **prepare)
    again = evaluate(
        PromptSpy(model, seen), "gqa,vsr,iconqa", run, oracle="scene", **kw
    )  # resumes: nothing left to predict
    assert len(seen) == 9
    assert [t["score"] for t in again["tasks"]] == [t["score"] for t in results["tasks"]]


def test_an_oracle_record_of_a_tuned_language_model_still_differs_from_its_text_only_one(model):
    key = next(name for name, _ in model.named_parameters() if name.startswith("llm."))
    model.trained_keys.add(key)
    try:
        hashes = {
            model_record(model, None, **kw)["config_hash"] for kw in ({}, {"no_image": True}, {"oracle": "scene"})
        }
    finally:
        model.trained_keys.discard(key)
    assert len(hashes) == 2  # the text-only record of a tuned LLM is the image run's; the oracle's is its own
