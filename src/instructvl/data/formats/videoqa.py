"""Video QA formats: MSVD-QA and MSRVTT-QA (JSON lists of {id, video_id, question,
answer}) and iVQA (CSV with five answers per question). `image_root` is the folder of
videos, or the benchmark's folder holding it as its archive unpacks (`*_FOLDERS`): a
frame folder or a video file per video (see frames.FrameSampler); the sampled frames
become the sample's `images`. Options: `num_frames` (default 4), `cache_dir`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from instructvl.data.formats.base import (
    BadRecord,
    ReadContext,
    enumerated,
    iter_csv,
    load_json,
    most_common,
    need,
    qa_sample,
    unpack_paths,
)
from instructvl.data.formats.frames import DEFAULT_CACHE, FrameSampler
from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError

IVQA_COLUMNS = ("video_id", "start", "end", "question", "answer1", "answer2", "answer3", "answer4", "answer5")
MSVD_FOLDERS = ("videos", "YouTubeClips", "frames")
"""MSVD's YouTubeClips.tar unpacks to `YouTubeClips/` (<clip name>.avi)."""
MSRVTT_FOLDERS = ("videos", "videos/all", "TestVideo", "TrainValVideo", "frames")
"""MSR-VTT's archives unpack to `videos/all/` (MSRVTT.zip) or `TrainValVideo/` and `TestVideo/`."""
IVQA_FOLDERS = ("videos", "frames")
MSVD_MAPPING = "youtube_mapping.txt"


def load_msvd_mapping(path: Path | None) -> dict[str, str]:
    """youtube_mapping.txt ("<youtube clip name> vid<N>" per line) -> {"vidN": clip name}."""
    if path is None:
        return {}
    mapping = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise InstructVLError(f"{path}, line {number}: expected '<clip name> vid<N>', got {line!r}")
        mapping[parts[1]] = parts[0]
    return mapping


def find_msvd_mapping(path: Path, video_root: Path) -> Path | None:
    """youtube_mapping.txt beside the QA file (as MSVD-QA ships it) or in the video root, if there."""
    return next((p for p in (path.parent / MSVD_MAPPING, video_root / MSVD_MAPPING) if p.is_file()), None)


def read_json_videoqa(
    ctx: ReadContext, path: Path, video_root: Path, sampler: FrameSampler, video_names, folders: tuple[str, ...]
) -> Iterator[Sample]:
    """The MSVD-QA / MSRVTT-QA record list; `video_names(video_id)` lists file names to try,
    under `video_root` and its `folders`."""

    def build(record: dict) -> Sample:
        video_id = need(record, "video_id", (int, str))
        frames = sampler.frames(video_root, video_names(video_id), folders)
        return qa_sample(
            ctx.dataset, need(record, "id", (int, str)), frames,
            need(record, "question"), answer=need(record, "answer"), video_id=video_id,
            category_id=record.get("category_id"),
        )  # fmt: skip

    yield from ctx.each(path, enumerated(load_json(path, list)), build)


def read_msvd_qa(
    ctx: ReadContext, paths: list[Path], image_root: Path, num_frames: int = 4, cache_dir: Path = DEFAULT_CACHE
) -> Iterator[Sample]:
    """MSVD-QA {train,val,test}_qa.json with an optional youtube_mapping.txt (default: the one
    beside the QA file or in `image_root`, if there); integer video ids N name `vidN`, tried
    as the YouTube clip name the mapping gives (frames extracted into clip-named folders, or
    YouTubeClips/<clip>.avi) and as `vidN`."""
    path, mapping_path = unpack_paths(ctx.dataset, paths, ["<split>_qa.json"], [MSVD_MAPPING])
    mapping = load_msvd_mapping(mapping_path or find_msvd_mapping(path, image_root))

    def names(video_id: int | str) -> list[str]:
        name = f"vid{video_id}" if isinstance(video_id, int) else video_id
        return [mapping[name], name] if name in mapping else [name]

    yield from read_json_videoqa(ctx, path, image_root, FrameSampler(num_frames, cache_dir), names, MSVD_FOLDERS)


def read_msrvtt_qa(
    ctx: ReadContext, paths: list[Path], image_root: Path, num_frames: int = 4, cache_dir: Path = DEFAULT_CACHE
) -> Iterator[Sample]:
    """MSRVTT-QA {train,val,test}_qa.json; integer video ids N name `videoN`."""
    (path,) = unpack_paths(ctx.dataset, paths, ["<split>_qa.json"])

    def names(video_id: int | str) -> list[str]:
        return [f"video{video_id}" if isinstance(video_id, int) else video_id]

    yield from read_json_videoqa(ctx, path, image_root, FrameSampler(num_frames, cache_dir), names, MSRVTT_FOLDERS)


def read_ivqa(
    ctx: ReadContext, paths: list[Path], image_root: Path, num_frames: int = 4, cache_dir: Path = DEFAULT_CACHE
) -> Iterator[Sample]:
    """iVQA {train,val,test}.csv: video_id, start, end, question, answer1..answer5. Videos
    are `<video_id>_<start>_<end>` (else `<video_id>`); `references` are the 5 answers and
    `answer` the most frequent."""
    (path,) = unpack_paths(ctx.dataset, paths, ["<split>.csv"])
    sampler = FrameSampler(num_frames, cache_dir)

    def build(row: dict) -> Sample:
        if None in row:
            raise BadRecord(f"row has more fields than the header's {len(row) - 1} columns")
        video_id = need(row, "video_id")
        clip = f"{video_id}_{row['start']}_{row['end']}"
        references = [row[f"answer{k}"] for k in range(1, 6) if row[f"answer{k}"]]
        return qa_sample(
            ctx.dataset, row.get("qid") or clip, sampler.frames(image_root, [clip, video_id], IVQA_FOLDERS),
            need(row, "question"), answer=most_common(references), references=references or None,
            video_id=video_id, start=row["start"], end=row["end"],
        )  # fmt: skip

    yield from ctx.each(path, iter_csv(path, IVQA_COLUMNS), build)
