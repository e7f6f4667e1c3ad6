"""Loading whole transformers vision-language checkpoints (by hub id or directory).

The checkpoint's config becomes an instructvl `ModelConfig` whose vision tower and
language model are read out of the same folder (so a saved model reloads them from
there), with the family's image preprocessing and prompt format; the head and projector
weights are then copied in by key mapping (`HEAD_RULES` of each family module)."""

from __future__ import annotations

import json
from pathlib import Path

from instructvl.errors import InstructVLError
from instructvl.models import sources
from instructvl.models.vlm import VisionLanguageModel

_HUB_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]


def _families() -> dict:
    from instructvl.models.interop import blip, llava

    return {"instructblip": blip, "blip-2": blip, "llava": llava}


def local_folder(source: str | Path) -> Path:
    """A local checkpoint folder: the directory itself, or the hub snapshot of an id
    (config, safetensors weights, tokenizer and processor files; never pickles)."""
    resolved = sources.resolve(str(source))
    if Path(resolved).is_dir():
        return Path(resolved)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(resolved, allow_patterns=_HUB_PATTERNS))
    except Exception as exc:  # noqa: BLE001 - any hub failure is reported the same way
        raise InstructVLError(f"could not fetch {source!r} from the hub (offline?): {exc}") from None


def is_transformers_checkpoint(path: str | Path) -> bool:
    """True for a local folder holding an InstructBLIP / BLIP-2 / LLaVA checkpoint."""
    return sources.composite_type(path) in _families()


def read_hf_config(folder: Path):
    """The checkpoint's transformers config object (every default filled in)."""
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(str(folder))


def image_token(folder: Path, config) -> str:
    """The tokenizer's token for visual positions (config.image_token_id), e.g. `<image>`."""
    from transformers import AutoTokenizer

    token_id = getattr(config, "image_token_id", None)
    if token_id is None:
        raise InstructVLError(
            f"{folder}: config.json has no image_token_index (checkpoints from transformers < 4.47 need re-saving)"
        )
    return AutoTokenizer.from_pretrained(str(folder)).convert_ids_to_tokens(token_id)


def load_head_weights(
    model: VisionLanguageModel, folder: Path, rules: list[tuple[str, str]], optional: tuple[str, ...] = ()
) -> None:
    """Copies the checkpoint's head and projector weights (renamed by `rules`) into
    `model`; every head / projector parameter not in `optional` must be found."""
    state = sources.read_safetensors(folder, sources.prefix_renamer(rules))
    own = dict(model.named_parameters())
    wanted = {k for k in own if k.split(".")[0] in ("head", "projector") and k != "projector.gain"}
    missing = sorted(wanted - set(state) - set(optional))
    if missing:
        raise InstructVLError(f"{folder}: the checkpoint lacks weights for {missing[:5]}")
    for key, value in state.items():
        if key not in own:
            raise InstructVLError(f"{folder}: mapped weight {key} does not exist in the instructvl model")
        if own[key].shape != value.shape:
            raise InstructVLError(
                f"{folder}: {key} has shape {tuple(value.shape)}, the model expects {tuple(own[key].shape)}"
            )
        own[key].data.copy_(value)


def from_transformers(path_or_id: str | Path) -> VisionLanguageModel:
    """An instructvl model from a transformers InstructBLIP, BLIP-2 or LLaVA checkpoint
    (hub id or directory), with its processor's preprocessing and prompt format."""
    folder = local_folder(path_or_id)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise InstructVLError(f"{folder} has no config.json: not a transformers checkpoint")
    model_type = json.loads(config_file.read_text()).get("model_type")
    family = _families().get(model_type)
    if family is None:
        raise InstructVLError(f"{folder}: model_type {model_type!r} is not one of {sorted(_families())}")
    hf_config = read_hf_config(folder)
    model = VisionLanguageModel.build(family.model_config(folder, hf_config))
    family.load_weights(model, folder, hf_config)
    return model
