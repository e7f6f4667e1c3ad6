"""What produced a result: the model's config and its fingerprint (package versions come
from `instructvl.provenance`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def fingerprint(obj: Any) -> str:
    """A short hash of JSON data (key order does not matter)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode("utf-8")).hexdigest()[:12]


def model_record(model, name: str | None) -> dict[str, Any]:
    """The model as results record it: its name, resolved config and config hash."""
    config = model.config.model_dump(mode="json")
    record: dict[str, Any] = {"name": name or config.get("name"), "config": config}
    weights = Path(name or "") / "model.safetensors"
    if name and weights.is_file():  # a saved model: its weights can change under the same config
        stat = weights.stat()
        record["weights"] = {"path": str(weights.resolve()), "bytes": stat.st_size, "mtime": stat.st_mtime}
    record["config_hash"] = fingerprint({"config": config, "weights": record.get("weights")})
    return record
