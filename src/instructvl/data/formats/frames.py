"""Video frames for video QA: N frames sampled uniformly from a frame folder (sorted image
files) or from a video file decoded with PyAV (optional: `pip install av`), whose frames
are written once into a cache folder as PNG so that samples still hold image paths. A
video is looked for under the video root and in the folders its benchmark unpacks to.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from instructvl.data.formats.base import CACHE_ROOT, MALFORMED, MISSING_VIDEO, BadRecord
from instructvl.data.formats.images import IMAGE_EXTS
from instructvl.errors import InstructVLError

VIDEO_EXTS = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".m4v")
DEFAULT_CACHE = CACHE_ROOT / "frames"


def uniform_indices(total: int, n: int) -> list[int]:
    """`n` frame indices spread evenly over `total` frames (segment centres); repeats when
    the video is shorter than `n`, so every sample has exactly `n` frames."""
    if total <= 0 or n <= 0:
        return []
    return [min(total - 1, int((i + 0.5) * total / n)) for i in range(n)]


def natural_key(name: str) -> list:
    """Sorts frame_2.jpg before frame_10.jpg."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def import_av(video: Path):
    """The PyAV module, or an `InstructVLError` naming `video` and saying how to install it
    (or how to do without: a folder of its frames)."""
    try:
        import av
    except ImportError:
        raise InstructVLError(
            f"reading video file {video} needs PyAV, which is not installed: pip install av, or extract its "
            f"frames as image files into a folder {video.with_suffix('')}/"
        ) from None
    return av


@dataclass
class FrameSampler:
    """Samples `num_frames` frames per video; decoded frames are cached under `cache_dir`."""

    num_frames: int = 4
    cache_dir: Path = DEFAULT_CACHE

    def __post_init__(self) -> None:
        if not isinstance(self.num_frames, int) or self.num_frames < 1:
            raise InstructVLError(f"num_frames must be a positive integer, got {self.num_frames!r}")
        self.cache_dir = Path(self.cache_dir)

    def frames(self, root: Path, names: Sequence[str], folders: Sequence[str] = ()) -> list[str]:
        """Frame paths for the first of `name` under `root`, then under each of `folders`,
        that is a frame folder or a video file (with or without one of VIDEO_EXTS); a
        missing_video `BadRecord` naming every path tried if none is."""
        bases = [root / folder / name for folder in ("", *folders) for name in names]
        for base in bases:
            for path in [base] + [base.with_name(base.name + ext) for ext in VIDEO_EXTS]:
                if path.is_dir():
                    return self.from_folder(path)
                if path.is_file():
                    return self.from_video(path)
        tried = ", ".join(str(b) for b in bases)
        raise BadRecord(
            f"no frame folder or video file found (tried {tried}, each as a folder and with {', '.join(VIDEO_EXTS)})",
            MISSING_VIDEO,
        )

    def from_folder(self, folder: Path) -> list[str]:
        """Uniformly sampled image files of a frame folder, in natural name order."""
        files = sorted((f for f in os.listdir(folder) if os.path.splitext(f)[1].lower() in IMAGE_EXTS), key=natural_key)
        if not files:
            raise BadRecord(f"frame folder {folder} holds no image files", MISSING_VIDEO)
        return [str(folder / files[i]) for i in uniform_indices(len(files), self.num_frames)]

    def from_video(self, video: Path) -> list[str]:
        """Uniformly sampled frames of a video file, decoded once and cached as PNG."""
        stat = video.stat()
        key = hashlib.sha1(f"{video.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
        out = self.cache_dir / f"{video.stem}-{key}"
        paths = [out / f"frame_{k:03d}_of_{self.num_frames:03d}.png" for k in range(self.num_frames)]
        if all(p.exists() for p in paths):
            return [str(p) for p in paths]
        av = import_av(video)
        try:
            images = decode_uniform(av, video, self.num_frames)
        except Exception as exc:  # PyAV raises its own FFmpeg error types
            raise BadRecord(f"cannot decode video {video}: {exc}", MALFORMED) from None
        out.mkdir(parents=True, exist_ok=True)
        for image, path in zip(images, paths):
            tmp = path.with_suffix(".tmp.png")
            image.save(tmp)
            os.replace(tmp, path)
        return [str(p) for p in paths]


def decode_uniform(av, video: Path, n: int) -> list:
    """`n` PIL images spread evenly over the video's frames (counted by decoding when the
    container does not say)."""
    with av.open(str(video)) as container:
        total = container.streams.video[0].frames
    if total <= 0:
        with av.open(str(video)) as container:
            total = sum(1 for _ in container.decode(video=0))
    wanted = uniform_indices(total, n)
    if not wanted:
        raise ValueError("the video has no frames")
    chosen: dict[int, object] = {}
    last = None
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i > wanted[-1]:
                break
            if i in wanted:
                last = chosen[i] = frame.to_image()
    if last is None:
        raise ValueError("no frame could be decoded")
    # a container may overstate its frame count: missing tail frames repeat the last one
    return [chosen.get(i, last) for i in wanted]
