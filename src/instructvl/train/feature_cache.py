"""A cache of frozen vision features: computed once per image, stored as memory-mapped
.npy shards under `$INSTRUCTVL_CACHE/features/<tower key>/`, reused across epochs and
across runs that share the tower (the key hashes the vision config and its weights)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from instructvl.artefacts import cache_dir
from instructvl.models.vision import VisionEncoder, load_image


def tower_key(vision: VisionEncoder) -> str:
    """A fingerprint of the tower: its config and the bytes of every weight."""
    digest = hashlib.sha256(json.dumps(vision.cfg.model_dump(mode="json"), sort_keys=True).encode())
    for name, tensor in sorted(vision.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


class FeatureCache:
    """Image path -> frozen tower features [T, D]. `ensure(paths)` computes what is missing
    (in batches, written as a new shard, atomically); `__call__(paths)` returns a tensor
    [n, T, D], computing any image not in the cache on the fly."""

    def __init__(self, vision: VisionEncoder, root: Path | None = None, batch_size: int = 64) -> None:
        self.vision = vision
        self.dir = (root or cache_dir() / "features") / tower_key(vision)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.batch_size = batch_size
        self.rows: dict[str, tuple[np.ndarray, int]] = {}
        for index in sorted(self.dir.glob("shard-*.json")):
            self._attach(index)

    def _attach(self, index: Path) -> None:
        array = np.load(index.with_suffix(".npy"), mmap_mode="r")
        for row, path in enumerate(json.loads(index.read_text())):
            self.rows[path] = (array, row)

    @torch.no_grad()
    def _compute(self, paths: list[str]) -> torch.Tensor:
        device = next(self.vision.parameters()).device
        pixels = self.vision.preprocess([load_image(p) for p in paths]).to(device)
        return self.vision(pixels).float().cpu()

    def ensure(self, paths: list[str], progress=None) -> int:
        """Computes and stores the features of every path not cached yet; returns how many."""
        missing = sorted({str(Path(p).resolve()) for p in paths} - set(self.rows))
        if not missing:
            return 0
        chunks = [self._compute(missing[i : i + self.batch_size]) for i in range(0, len(missing), self.batch_size)]
        shard = self.dir / f"shard-{len(list(self.dir.glob('shard-*.json'))):05d}"
        tmp_npy, tmp_json = shard.with_suffix(".npy.tmp"), shard.with_suffix(".json.tmp")
        with open(tmp_npy, "wb") as f:
            np.save(f, torch.cat(chunks).numpy())
        tmp_json.write_text(json.dumps(missing))
        os.replace(tmp_npy, shard.with_suffix(".npy"))
        os.replace(tmp_json, shard.with_suffix(".json"))  # the index last: a shard counts once complete
        self._attach(shard.with_suffix(".json"))
        return len(missing)

    def __call__(self, paths: list[str]) -> torch.Tensor:
        keys = [str(Path(p).resolve()) for p in paths]
        missing = [p for p, k in zip(paths, keys) if k not in self.rows]
        live = dict(zip(missing, self._compute(missing))) if missing else {}
        rows = []
        for path, key in zip(paths, keys):
            if key in self.rows:
                array, row = self.rows[key]
                rows.append(torch.from_numpy(np.array(array[row])))
            else:
                rows.append(live[path])
        return torch.stack(rows)
