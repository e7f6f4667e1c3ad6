"""Task specs: every packaged spec loads, agrees with the SynthVL registry and the format
readers, groups resolve, and bad names or fields are clear errors."""

import pytest

from instructvl.data.formats import format_options
from instructvl.data.synthvl.registry import DATASETS, get_spec
from instructvl.data.templates import load_templates, protocol_prompts
from instructvl.errors import InstructVLError
from instructvl.eval.spec import all_specs, parse_task_file, resolve_tasks, spec_hash, with_overrides


def test_every_synthvl_dataset_and_benchmark_has_a_spec():
    specs = all_specs()
    assert {d.name for d in DATASETS} <= set(specs)
    assert len(resolve_tasks("held-out")) == len(resolve_tasks("held-in")) == len(resolve_tasks("real")) == 13
    assert len(resolve_tasks("real-held-in")) == 6 and len(resolve_tasks("all")) == 45


@pytest.mark.parametrize("name", [d.name for d in DATASETS])
def test_synthvl_specs_match_the_registry(name):
    spec, data = all_specs()[name], get_spec(name)
    assert (spec.metric, spec.output, spec.held_out) == (data.metric, data.output, data.held_out)
    assert spec.source.dataset == name and spec.source.split == ("test" if data.held_out else "val")


@pytest.mark.parametrize("spec", resolve_tasks("real,real-held-in"), ids=lambda s: s.name)
def test_real_specs_use_valid_format_options_and_their_protocol_prompt(spec):
    assert set(spec.source.options) <= set(format_options(spec.source.format))
    assert spec.held_out == (spec.group == "real") and spec.template in protocol_prompts()


def test_protocol_prompts_take_their_task_type_settings():
    science = load_templates("instructblip/scienceqa")
    assert science.templates == ("Context: {context} Question: {input} Options: {options}. Answer:",)
    assert (science.task, science.apply_to) == ("mcq", "first")
    assert load_templates("instructblip/visdial").apply_to == "last"
    with pytest.raises(InstructVLError, match="no protocol prompt 'instructblip/nope'.*instructblip/vsr"):
        load_templates("instructblip/nope")


def test_task_files_on_the_command_line(tmp_path):
    path = tmp_path / "my_tasks.yaml"
    path.write_text(
        "defaults: {suite: synthvl, held_out: true}\n"
        "tasks:\n  my-vsr: {source: {dataset: vsr, split: test}, output: rank, metric: top1, limit: 5}\n"
        "  my-gqa: {source: {dataset: gqa, split: test}, output: generate, metric: top1}\n"
    )
    specs = resolve_tasks(f"vsr,{path}")
    assert [s.name for s in specs] == ["vsr", "my-vsr", "my-gqa"] and specs[1].limit == 5
    assert specs[1].source.dataset == "vsr" and specs[1].group == "held-out"
    with pytest.raises(InstructVLError, match=r"task file .*absent\.yaml does not exist"):
        resolve_tasks(str(tmp_path / "absent.yaml"))
    path.write_text("tasks:\n  vsr: {suite: synthvl, held_out: true, source: {dataset: vsr, split: test}, "
                    "output: rank, metric: top1}\n")  # fmt: skip
    with pytest.raises(InstructVLError, match=r"task name\(s\) \['vsr'\] are packaged tasks"):
        resolve_tasks(str(path))


def test_unknown_task_lists_the_valid_ones():
    with pytest.raises(InstructVLError, match="unknown task 'nope'.*held-out.*visdial"):
        resolve_tasks("vsr,nope")


def test_groups_and_names_combine_without_repeats():
    names = [s.name for s in resolve_tasks("vsr, held-out,vqa")]
    assert names[0] == "vsr" and names.count("vsr") == 1 and names[-1] == "vqa"


def test_bad_spec_fields_are_clear_errors(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "tasks:\n  x: {suite: synthvl, held_out: true, source: {dataset: vsr, split: test}, "
        "output: rank, metric: cider}\n"
    )
    with pytest.raises(InstructVLError, match="rank task is scored by one of"):
        parse_task_file(path)
    path.write_text(
        "tasks:\n  x: {suite: synthvl, held_out: true, source: {dataset: vsr, split: test}, "
        "output: rank, metric: top1, colour: 3}\n"
    )
    with pytest.raises(InstructVLError, match="unknown key 'colour'"):
        parse_task_file(path)
    path.write_text(
        "tasks:\n  x: {suite: synthvl, held_out: true, source: {dataset: vsr, split: test}, "
        "output: generate, metric: top1, postprocess: [shout]}\n"
    )
    with pytest.raises(InstructVLError, match="unknown post-processing steps"):
        parse_task_file(path)
    path.write_text(
        "tasks:\n  x: {suite: synthvl, held_out: true, source: {dataset: vqa, split: val}, "
        "output: generate, metric: top1, length_penalty: -1}\n"
    )
    with pytest.raises(InstructVLError, match="length_penalty applies to beam search only"):
        parse_task_file(path)


def test_spec_hash_follows_every_field():
    spec = all_specs()["vsr"]
    assert spec_hash(spec) == spec_hash(with_overrides(spec, mode=None))
    assert spec_hash(spec) != spec_hash(with_overrides(spec, normalisation="mean"))
    assert spec_hash(spec) != spec_hash(with_overrides(spec, mode="multitask"))
    assert spec_hash(spec) != spec_hash(with_overrides(spec, num_beams=5))
    assert spec_hash(with_overrides(spec, num_beams=5)) != spec_hash(
        with_overrides(spec, num_beams=5, length_penalty=-1.0)
    )


def test_greedy_specs_leave_the_beam_fields_out_of_their_fingerprint():
    # specs written before beam search existed keep their fingerprints (evaluation folders check them)
    spec = all_specs()["gqa"]
    assert "num_beams" not in spec.resolved() and "length_penalty" not in spec.resolved()
    assert all_specs()["real-gqa"].resolved()["num_beams"] == 5
