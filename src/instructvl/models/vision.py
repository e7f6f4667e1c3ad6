"""Vision encoders: any transformers vision tower (CLIP, SigLIP, BLIP-2 / InstructBLIP ViT)
with its own image preprocessing (Pillow backend: there is no CPU torchvision)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from instructvl.config.schema import VisionConfig
from instructvl.errors import InstructVLError
from instructvl.models import sources
from instructvl.models.random_init import seeded


@dataclass(frozen=True)
class _TowerKind:
    config_cls: str
    model_cls: str
    processor_cls: str
    composite_types: tuple[str, ...]  # checkpoints whose vision part we read by key prefix


_KINDS = {
    "clip": _TowerKind("CLIPVisionConfig", "CLIPVisionModel", "CLIPImageProcessorPil", ("llava",)),
    "siglip": _TowerKind("SiglipVisionConfig", "SiglipVisionModel", "SiglipImageProcessorPil", ("llava",)),
    "blip": _TowerKind("Blip2VisionConfig", "Blip2VisionModel", "BlipImageProcessorPil", ("blip-2", "instructblip")),
}
# Where the tower's weights sit in a whole checkpoint (older and newer transformers layouts).
_COMPOSITE_PREFIXES = [("vision_model.", ""), ("model.vision_tower.", ""), ("vision_tower.", "")]
_PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")


def _cls(name: str):
    import transformers

    return getattr(transformers, name)


def _default_processor(kind: str, image_size: int, overrides: dict):
    """The tower family's processor at the tower's resolution, with config overrides."""
    kwargs: dict = {"size": {"height": image_size, "width": image_size}}
    if kind == "clip":
        kwargs = {"size": {"shortest_edge": image_size}, "crop_size": {"height": image_size, "width": image_size}}
    kwargs.update(overrides)
    return _cls(_KINDS[kind].processor_cls)(**kwargs)


def _load_composite_vision(kind: _TowerKind, path: Path, config: dict):
    """Reads the vision tower out of a whole BLIP-2 / InstructBLIP / LLaVA checkpoint folder."""
    vision_config = _cls(kind.config_cls)(**config["vision_config"])
    model = _cls(kind.model_cls)(vision_config)
    state = sources.read_safetensors(path, sources.prefix_renamer(_COMPOSITE_PREFIXES))
    if not state:
        raise InstructVLError(
            f"{path}: no vision tower weights ({[p for p, _ in _COMPOSITE_PREFIXES]}) in its safetensors files"
        )
    own = model.state_dict()
    state = {k if k in own else k.removeprefix("vision_model."): v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing:
        raise InstructVLError(f"{path}: the vision tower is missing weights {missing[:5]}")
    return model


def _local_checkpoint(source: str) -> Path:
    path = Path(source)
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(source, allow_patterns=["*.json", "*.safetensors"]))
    except Exception as exc:  # noqa: BLE001 - any hub failure is reported the same way
        raise InstructVLError(f"could not fetch {source!r} from the hub (offline?): {exc}") from None


def _load_tower(cfg: VisionConfig, seed: int):
    kind = _KINDS[cfg.kind]
    if cfg.source is None:
        config = _cls(kind.config_cls)(**cfg.arch)
        model = seeded(seed, lambda: _cls(kind.model_cls)(config))
        return model, _default_processor(cfg.kind, config.image_size, cfg.image_processor)
    source = sources.resolve(cfg.source)
    from transformers import AutoImageProcessor

    path = _local_checkpoint(source)
    raw = json.loads((path / "config.json").read_text()) if (path / "config.json").is_file() else {}
    if raw.get("model_type") in kind.composite_types:
        model = _load_composite_vision(kind, path, raw)
    else:
        model = sources.load_pretrained(_cls(kind.model_cls).from_pretrained, str(path), "vision tower")
    if any((path / name).is_file() for name in _PROCESSOR_FILES):
        processor = AutoImageProcessor.from_pretrained(str(path), backend="pil", **cfg.image_processor)
    else:
        processor = _default_processor(cfg.kind, model.config.image_size, cfg.image_processor)
    return model, processor


def load_image(path: str | Path) -> Image.Image:
    """Opens an image as RGB; a missing or undecodable file is an `InstructVLError`."""
    path = Path(path)
    if not path.is_file():
        raise InstructVLError(f"image file not found: {path}")
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for corrupt files
        raise InstructVLError(
            f"cannot read image {path}: {exc} (expected a PNG, JPEG or other Pillow-readable file)"
        ) from None


class VisionEncoder(nn.Module):
    """Image -> patch features [n_images, num_tokens, hidden_size] from a transformers tower.

    `feature_layer` and `drop_cls` follow the config; `preprocess` applies the tower's own
    image processor (size, resize mode, mean, std)."""

    def __init__(self, cfg: VisionConfig, tower: nn.Module, processor) -> None:
        super().__init__()
        if cfg.kind == "siglip" and cfg.drop_cls:
            raise InstructVLError("vision.drop_cls: SigLIP towers have no class token")
        self.cfg = cfg
        self.tower = tower
        self.processor = processor

    @classmethod
    def build(cls, cfg: VisionConfig, seed: int = 0) -> VisionEncoder:
        """Loads (or, with no source, builds seeded random) the tower and its processor."""
        tower, processor = _load_tower(cfg, seed)
        return cls(cfg, tower, processor)

    @property
    def hidden_size(self) -> int:
        return self.tower.config.hidden_size

    @property
    def image_size(self) -> int:
        return self.tower.config.image_size

    @property
    def num_tokens(self) -> int:
        """Feature tokens per image after `drop_cls`."""
        grid = self.image_size // self.tower.config.patch_size
        has_cls = self.cfg.kind != "siglip"
        return grid * grid + (1 if has_cls and not self.cfg.drop_cls else 0)

    def preprocess(self, images: list[Image.Image]) -> torch.Tensor:
        """Pixel values [n, 3, H, W] for a list of RGB images."""
        return self.processor(images=images, return_tensors="pt")["pixel_values"]

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        dtype = next(self.tower.parameters()).dtype
        take_hidden = self.cfg.feature_layer != "last"
        out = self.tower(pixel_values=pixel_values.to(dtype), output_hidden_states=take_hidden)
        feats = out.hidden_states[self.cfg.feature_layer] if take_hidden else out.last_hidden_state
        return feats[:, 1:] if self.cfg.drop_cls else feats


def pooled_grid(patches: torch.Tensor, cells: int) -> torch.Tensor:
    """Patch tokens [B, side * side, hidden] (a square grid, no class token) averaged to a
    `cells` x `cells` grid: [B, cells * cells, hidden], row by row."""
    b, n, h = patches.shape
    side = int(round(n**0.5))
    grid = nn.functional.adaptive_avg_pool2d(patches.transpose(1, 2).reshape(b, h, side, side), cells)
    return grid.flatten(2).transpose(1, 2)


def tower_config(model: str, overrides: list[str] | None = None) -> VisionConfig:
    """The vision config behind `model`: a preset, YAML config or saved instructvl model
    directory (its config.json holds a `model` section) gives its `vision` section (after
    `overrides`); anything else is read as a tower source (`synthvl-clip:<size>`, a tower
    folder in transformers' format or a hub id), of kind siglip when its folder's
    config.json says so, else clip."""
    from instructvl.config.loader import MODEL_CONFIG_FILE, PRESET_DIR, load_model_config

    path = Path(model)
    folder_config = json.loads((path / MODEL_CONFIG_FILE).read_text()) if (path / MODEL_CONFIG_FILE).is_file() else {}
    if "model" in folder_config or path.suffix in (".yaml", ".yml") or (PRESET_DIR / f"{model}.yaml").is_file():
        return load_model_config(model, overrides).vision
    if overrides:
        raise InstructVLError(f"--set applies to a model config, and {model!r} is a vision tower source")
    kind = "siglip" if "siglip" in folder_config.get("model_type", "") else "clip"
    return VisionConfig(kind=kind, source=model)
