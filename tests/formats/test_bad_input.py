"""Bad input: malformed lines and records, missing images, strict mode, bad calls."""

import json
import sys

import pytest

from instructvl.data.formats import FORMATS, format_options, read_dataset
from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError

from .fixtures import make_images, write_json, write_lines


def memes(tmp_path):
    make_images(tmp_path, "img/1.png", "img/3.png")
    return write_lines(tmp_path / "train.jsonl", [
        json.dumps({"id": 1, "img": "img/1.png", "label": 1, "text": "a"}),
        '{"id": 2, "img": "img/2.png", "label": 0, "text": "b"',  # truncated line
        json.dumps({"id": 3, "img": "img/3.png", "label": 7, "text": "c"}),
        json.dumps({"id": 4, "img": "img/4.png", "label": 0, "text": "d"}),  # image file absent
    ])  # fmt: skip


def test_malformed_jsonl_line_is_reported_with_file_and_line(tmp_path):
    path = memes(tmp_path)
    result = read_dataset("hateful_memes", path)
    assert [s.id for s in result.samples] == ["1"]
    problems = {p.where: p for p in result.skipped}
    assert set(problems) == {"line 2", "line 3", "line 4"}
    assert problems["line 2"].file == str(path) and "not valid JSON" in problems["line 2"].reason
    assert "expected 0 or 1" in problems["line 3"].reason
    assert problems["line 4"].kind == "missing_image" and "img/4.png" in problems["line 4"].reason
    assert result.counts == {"malformed": 2, "missing_image": 1}
    assert result.summary() == "hateful_memes: 1 samples read, 3 skipped (2 malformed, 1 missing_image)"


def test_strict_mode_stops_naming_file_and_line(tmp_path):
    path = memes(tmp_path)
    with pytest.raises(InstructVLError, match=rf"{path}:2: not valid JSON.*expected one JSON object per line"):
        read_dataset("hateful_memes", path, strict=True)


def test_missing_image_in_json_list_is_reported_with_record_index(tmp_path):
    make_images(tmp_path, "VizWiz_val_00000000.jpg")
    ann = write_json(tmp_path / "val.json", [
        {"image": "VizWiz_val_00000000.jpg", "question": "q", "answers": [{"answer": "a"}]},
        {"image": "VizWiz_val_00000001.jpg", "question": "q", "answers": [{"answer": "a"}]},
        {"image": "VizWiz_val_00000000.jpg", "answers": [{"answer": "a"}]},
    ])  # fmt: skip
    result = read_dataset("vizwiz", ann)
    assert len(result.samples) == 1
    assert [(p.where, p.kind) for p in result.skipped] == [("record 1", "missing_image"), ("record 2", "malformed")]
    assert "field 'question' is missing; expected a string" in result.skipped[1].reason
    with pytest.raises(
        InstructVLError, match=r"val\.json, record 1: image file not found \(tried .*VizWiz_val_00000001\.jpg, .*"
    ):
        read_dataset("vizwiz", ann, strict=True)
    assert len(read_dataset("vizwiz", ann, check_files=False).samples) == 2


def test_keyed_records_and_cross_file_problems(tmp_path):
    make_images(tmp_path, "COCO_val2014_000000000001.jpg")
    questions = write_json(
        tmp_path / "q.json",
        {
            "data_subtype": "val2014",
            "questions": [
                {"image_id": 1, "question": "q1", "question_id": 10},
                {"image_id": 1, "question": "q2", "question_id": 11},
            ],
        },
    )
    annotations = write_json(
        tmp_path / "a.json",
        {"annotations": [{"question_id": 10, "answers": [{"answer": "x"}], "multiple_choice_answer": "x"}]},
    )
    result = read_dataset("vqav2", [questions, annotations])
    (problem,) = result.skipped
    assert problem.where == "questions record 1" and "question_id 11 has no entry" in problem.reason
    gqa = write_json(tmp_path / "gqa.json", {"07": {"imageId": "n1", "question": "q"}, "08": "not an object"})
    result = read_dataset("gqa", gqa, check_files=False)
    assert [s.id for s in result.samples] == ["07"] and result.skipped[0].where == "key '08'"


def test_bad_records_in_dialog_conversation_and_csv(tmp_path):
    dialog = {
        "image_id": 5,
        "caption": "c",
        "dialog": [{"question": 0, "answer": 0, "answer_options": [0], "gt_index": 3}],
    }
    visdial = write_json(
        tmp_path / "visdial_1.0_val.json",
        {"split": "val2018", "data": {"dialogs": [dialog], "questions": ["q"], "answers": ["a"]}},
    )
    (problem,) = read_dataset("visdial", visdial, check_files=False).skipped
    assert problem.where == "dialogs record 0" and "gt_index 3" in problem.reason
    llava = write_json(tmp_path / "llava.json", [{"id": "x", "conversations": [{"from": "bot", "value": "hi"}]}])
    (problem,) = read_dataset("llava_instruct", llava).skipped
    assert "from 'bot'" in problem.reason
    csv = write_lines(tmp_path / "test.csv", ["video_id,start,end,question,answer1,answer2,answer3,answer4,answer5",
                                              "v,1,2,q,a,a,a,a,a,EXTRA"])  # fmt: skip
    (problem,) = read_dataset("ivqa", csv).skipped
    assert problem.where == "line 2" and "more fields" in problem.reason


def test_whole_file_errors_are_fatal_and_clear(tmp_path):
    with pytest.raises(InstructVLError, match="does not exist"):
        read_dataset("gqa", tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"a":\n  [1, 2,,]}')
    with pytest.raises(InstructVLError, match=r"broken\.json, line 2 column 9: not valid JSON"):
        read_dataset("gqa", broken)
    with pytest.raises(InstructVLError, match="expected a JSON list"):
        read_dataset("vizwiz", write_json(tmp_path / "obj.json", {"a": 1}))
    with pytest.raises(InstructVLError, match="expected a top-level 'questions' list"):
        read_dataset("vqav2", write_json(tmp_path / "q.json", {"data_subtype": "val2014"}))


def test_bad_calls_name_what_is_valid(tmp_path):
    with pytest.raises(InstructVLError, match="unknown dataset format 'vqa3'; known formats: .*vqav2"):
        read_dataset("vqa3", tmp_path / "x.json")
    with pytest.raises(
        InstructVLError, match=r"has no options \['frames'\]; its options: \['cache_dir', 'num_frames'\]"
    ):
        read_dataset("msvd_qa", tmp_path / "x.json", frames=3)
    with pytest.raises(InstructVLError, match=r"takes annotation files: questions json, \[annotations json\]; got 3"):
        read_dataset("vqav2", ["a", "b", "c"])
    with pytest.raises(InstructVLError, match="num_frames must be a positive integer"):
        read_dataset("msrvtt_qa", write_json(tmp_path / "qa.json", []), num_frames=0)


def test_hf_without_datasets_says_pip_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(InstructVLError, match="pip install datasets"):
        read_dataset("hf", "HuggingFaceM4/VQAv2", cache_dir=tmp_path)


def test_registry_options_and_limit_and_json_round_trip(tmp_path):
    assert {"vqav2", "okvqa", "vizwiz", "aokvqa", "gqa", "vsr", "iconqa", "scienceqa", "textvqa", "textcaps", "ocrvqa",
            "hateful_memes", "visdial", "msvd_qa", "msrvtt_qa", "ivqa", "llava_instruct", "coco_captions", "nocaps",
            "flickr30k"} <= set(FORMATS)  # fmt: skip
    assert format_options("scienceqa") == {"split": None, "image_only": False}
    path = memes(tmp_path)
    result = read_dataset("hateful_memes", path, check_files=False, limit=1, dataset="hm_dev")
    (sample,) = result.samples
    assert sample.dataset == "hm_dev"
    assert Sample.from_json(json.loads(json.dumps(sample.to_json()))) == sample
