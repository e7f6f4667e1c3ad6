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


def _llm_untouched(model) -> bool:
    """True when the language model's weights are exactly those of its source."""
    return model.config.llm.source is not None and not any(k.startswith("llm.") for k in model.trained_keys)


def model_record(model, name: str | None, no_image: bool = False, oracle: str | None = None) -> dict[str, Any]:
    """The model as results record it: its name, resolved config and config hash.

    With `no_image` and a language model untouched since its source, the predictions
    depend on the language model alone: the record keeps only its config, so text-only
    runs of models that differ in everything else (or were retrained) share predictions.
    An `oracle` run (text in place of the images) is keyed the same way, with the oracle
    recorded and hashed, so it never shares a hash with a text-only or an image run."""
    config = model.config.model_dump(mode="json")
    setting = {"oracle": oracle} if oracle else {}
    if (no_image or oracle) and _llm_untouched(model):
        llm = {"llm": config["llm"]}
        return {
            "name": name or config.get("name"),
            "config": llm,
            "text_only": True,
            **setting,
            "config_hash": fingerprint({**llm, **setting}),
        }
    record: dict[str, Any] = {"name": name or config.get("name"), "config": config, **setting}
    weights = Path(name or "") / "model.safetensors"
    if name and weights.is_file():  # a saved model: its weights can change under the same config
        stat = weights.stat()
        record["weights"] = {"path": str(weights.resolve()), "bytes": stat.st_size, "mtime": stat.st_mtime}
    record["config_hash"] = fingerprint({"config": config, "weights": record.get("weights"), **setting})
    return record
