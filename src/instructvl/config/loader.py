"""Load a `ModelConfig` from a preset name, a YAML file or a saved model directory,
apply `key.path=value` overrides, and turn validation failures into clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from instructvl.config.schema import ModelConfig
from instructvl.errors import InstructVLError

PRESET_DIR = Path(__file__).parent / "presets"
MODEL_CONFIG_FILE = "config.json"


def list_presets() -> list[str]:
    """Names of the packaged presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InstructVLError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InstructVLError(f"{path}: expected a mapping at the top level")
    return data


def read_config_dict(name_or_path: str) -> dict[str, Any]:
    """The raw dict behind a preset name, a YAML file, or a model directory's config.json."""
    path = Path(name_or_path)
    if path.is_dir():
        cfg = path / MODEL_CONFIG_FILE
        if not cfg.is_file():
            raise InstructVLError(f"{path} is a directory without {MODEL_CONFIG_FILE}: not a saved instructvl model")
        try:
            return json.loads(cfg.read_text())["model"]
        except (json.JSONDecodeError, KeyError) as exc:
            raise InstructVLError(f"{cfg}: not an instructvl model config ({exc})") from None
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise InstructVLError(f"config file not found: {path}")
        return read_yaml(path)
    preset = PRESET_DIR / f"{name_or_path}.yaml"
    if preset.is_file():
        return read_yaml(preset)
    raise InstructVLError(
        f"unknown preset or path {name_or_path!r}: expected one of the presets {list_presets()}, "
        "a .yaml config file, or a saved model directory"
    )


def _parse_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _index(node: list, part: str, key: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise InstructVLError(f"override {key!r}: {part!r} is not an index of a list of {len(node)}")
    return int(part)


def _child(node: Any, part: str, key: str) -> Any:
    """The section `part` of `node` (a list index for lists), created if missing."""
    if isinstance(node, list):
        child = node[_index(node, part, key)]
    else:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
    if not isinstance(child, (dict, list)):
        raise InstructVLError(f"override {key!r}: {part!r} is not a section")
    return child


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Returns a copy of `data` with each `a.b.c=value` set (value parsed as YAML; a
    numeric part indexes a list, e.g. `stages.0.steps=50`)."""
    out = json.loads(json.dumps(data))
    for item in overrides:
        if "=" not in item:
            raise InstructVLError(f"override {item!r} is not of the form key.path=value")
        key, value = item.split("=", 1)
        node: Any = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = _child(node, part, key)
        if isinstance(node, list):
            node[_index(node, parts[-1], key)] = _parse_value(value)
        else:
            node[parts[-1]] = _parse_value(value)
    return out


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The valid field names of the (sub)model that holds location `loc`."""
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = getattr(field, "annotation", None)
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        sub = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if sub is None:
            break
        model = sub
    return sorted(model.model_fields)


def validate(model: type[BaseModel], data: dict[str, Any], where: str) -> BaseModel:
    """Builds `model` from `data`; an unknown key or bad value becomes an `InstructVLError`
    naming the key, what was wrong, and (for unknown keys) the valid ones."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                lines.append(f"unknown key {key!r}; valid keys here: {_fields_at(model, err['loc'])}")
            else:
                lines.append(f"{key or '(top level)'}: {err['msg']}")
        raise InstructVLError(f"invalid config {where}:\n  " + "\n  ".join(lines)) from None


def load_model_config(name_or_path: str, overrides: list[str] | None = None) -> ModelConfig:
    """The resolved `ModelConfig` for a preset, YAML file or model directory, with overrides."""
    data = apply_overrides(read_config_dict(name_or_path), overrides or [])
    return validate(ModelConfig, data, f"({name_or_path})")  # type: ignore[return-value]
