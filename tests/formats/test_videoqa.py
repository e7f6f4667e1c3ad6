"""MSVD-QA, MSRVTT-QA and iVQA readers: frame folders, video files (PyAV), frame count."""

import sys

import numpy as np
import pytest

from instructvl.data.formats import read_dataset
from instructvl.data.formats.frames import uniform_indices
from instructvl.errors import InstructVLError

from .fixtures import make_images, turns, write_json, write_lines


def frame_folder(root, name, count):
    """A frame folder of `count` frames named so that a plain string sort would misorder them."""
    return make_images(root / name, *[f"frame_{i}.jpg" for i in range(1, count + 1)])


def test_uniform_indices():
    assert uniform_indices(12, 4) == [1, 4, 7, 10]
    assert uniform_indices(2, 4) == [0, 0, 1, 1]
    assert uniform_indices(0, 4) == []


def test_msvd_qa_frame_folders_with_youtube_mapping(tmp_path):
    frames = frame_folder(tmp_path / "videos", "-4wsuPCjDBc_5_15", 10)
    qa = write_json(
        tmp_path / "test_qa.json", [{"answer": "animal", "id": 0, "question": "what is chewing?", "video_id": 1}]
    )
    mapping = write_lines(tmp_path / "youtube_mapping.txt", ["-4wsuPCjDBc_5_15 vid1", "abc_1_2 vid2"])
    (sample,) = read_dataset("msvd_qa", [qa, mapping], tmp_path / "videos", num_frames=3).samples
    assert sample.id == "0" and sample.metadata["video_id"] == 1
    assert sample.images == [frames[1], frames[5], frames[8]]  # frame_2, frame_6, frame_9 in natural order
    assert turns(sample) == [("user", "what is chewing?"), ("assistant", "animal")]


def test_msvd_qa_finds_the_shipped_mapping_and_the_archive_folders(tmp_path):
    clip = frame_folder(tmp_path / "msvd" / "videos", "-4wsuPCjDBc_5_15", 4)  # frames in a clip-named folder
    qa = write_json(tmp_path / "msvd" / "test_qa.json", [
        {"answer": "animal", "id": 0, "question": "what is chewing?", "video_id": 1},
        {"answer": "man", "id": 1, "question": "who cooks?", "video_id": 2},
    ])  # fmt: skip
    write_lines(tmp_path / "msvd" / "youtube_mapping.txt", ["-4wsuPCjDBc_5_15 vid1", "abc_1_2 vid2"])  # beside the QA
    result = read_dataset("msvd_qa", qa, tmp_path / "msvd", num_frames=4)
    assert [s.images for s in result.samples] == [clip]
    (missing,) = result.skipped
    root = tmp_path / "msvd"
    tried = [root / "abc_1_2", root / "vid2", root / "videos/abc_1_2", root / "YouTubeClips/abc_1_2"]
    assert missing.kind == "missing_video" and all(str(p) in missing.reason for p in tried)
    assert ".avi" in missing.reason and ".mp4" in missing.reason


def test_msrvtt_qa_default_four_frames(tmp_path):
    frame_folder(tmp_path / "frames", "video7010", 20)
    qa = write_json(
        tmp_path / "val_qa.json",
        [{"answer": "man", "category_id": 0, "id": 5, "question": "who is talking?", "video_id": 7010}],
    )
    (sample,) = read_dataset("msrvtt_qa", qa, tmp_path / "frames").samples
    assert len(sample.images) == 4 and sample.answer == "man" and sample.metadata["category_id"] == 0
    assert sample.images[0].endswith("video7010/frame_3.jpg")


def test_ivqa_csv_five_answers(tmp_path):
    frame_folder(tmp_path / "videos", "abc123_10_25", 8)
    csv = write_lines(tmp_path / "test.csv", [
        "video_id,start,end,question,answer1,answer2,answer3,answer4,answer5",
        "abc123,10,25,what is the man cutting,onion,onion,carrot,onion,onions",
    ])  # fmt: skip
    (sample,) = read_dataset("ivqa", csv, tmp_path / "videos", num_frames=2).samples
    assert sample.id == "abc123_10_25" and len(sample.images) == 2
    assert sample.references == ["onion", "onion", "carrot", "onion", "onions"] and sample.answer == "onion"


def test_missing_video_is_reported(tmp_path):
    qa = write_json(tmp_path / "test_qa.json", [{"answer": "a", "id": 3, "question": "q?", "video_id": 9}])
    result = read_dataset("msrvtt_qa", qa, tmp_path)
    assert result.samples == [] and result.counts == {"missing_video": 1}
    assert "video9" in result.skipped[0].reason and result.skipped[0].where == "record 0"


def test_video_file_without_pyav_names_the_file_and_pip_install(tmp_path, monkeypatch):
    video = tmp_path / "videos" / "all" / "video1.mp4"  # as MSRVTT.zip unpacks
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\x00" * 16)
    qa = write_json(tmp_path / "test_qa.json", [{"answer": "a", "id": 1, "question": "q?", "video_id": 1}])
    monkeypatch.setitem(sys.modules, "av", None)  # makes `import av` fail
    with pytest.raises(InstructVLError) as error:
        read_dataset("msrvtt_qa", qa, tmp_path, cache_dir=tmp_path / "cache")
    assert f"reading video file {video} needs PyAV" in str(error.value) and "pip install av" in str(error.value)
    assert f"into a folder {video.with_suffix('')}/" in str(error.value)


def test_video_file_decoded_into_cached_pngs(tmp_path, monkeypatch):
    av = pytest.importorskip("av")
    path = tmp_path / "videos" / "video3.mp4"
    path.parent.mkdir()
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=12)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for i in range(12):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 20, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    qa = write_json(tmp_path / "test_qa.json", [{"answer": "a", "id": 1, "question": "q?", "video_id": 3}])
    (sample,) = read_dataset("msrvtt_qa", qa, tmp_path / "videos", cache_dir=tmp_path / "cache").samples
    assert len(sample.images) == 4 and all(p.endswith(".png") and str(tmp_path / "cache") in p for p in sample.images)
    from PIL import Image

    levels = [int(np.asarray(Image.open(p)).mean()) for p in sample.images]
    assert all(abs(level - want * 20) <= 8 for level, want in zip(levels, [1, 4, 7, 10])), levels
    monkeypatch.setitem(sys.modules, "av", None)  # a second read uses the cache, no decoding
    again = read_dataset("msrvtt_qa", qa, tmp_path / "videos", cache_dir=tmp_path / "cache").samples
    assert again[0].images == sample.images
