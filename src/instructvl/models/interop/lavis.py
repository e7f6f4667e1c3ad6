"""LAVIS-format InstructBLIP / BLIP-2 checkpoints (`.pth` files, or their `model` state
dict) loaded into an instructvl model of the matching architecture by key mapping.

Files are read with `torch.load(weights_only=True)` only: tensors and plain containers,
never arbitrary pickled objects. Released LAVIS checkpoints are often trimmed to the
trained parts (Q-Former, query tokens, projection); whatever they hold is loaded and the
report says which components that covered."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from instructvl.errors import InstructVLError
from instructvl.models.interop.keymap import QKV_BIAS, lavis_to_instructvl, qkv_bias_target


@dataclass
class LavisReport:
    """Which instructvl components received weights, how many tensors, and the LAVIS keys
    with no counterpart (ignored)."""

    components: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def read_lavis(source: str | Path | dict) -> dict[str, torch.Tensor]:
    """The state dict of a LAVIS checkpoint file (its `model` entry when wrapped)."""
    if isinstance(source, dict):
        state = source
    else:
        path = Path(source)
        if not path.is_file():
            raise InstructVLError(f"LAVIS checkpoint not found: {path}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - unpickling errors come in many types
            raise InstructVLError(f"{path}: not loadable with torch.load(weights_only=True): {exc}") from None
    state = state.get("model", state) if isinstance(state, dict) else state
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InstructVLError("a LAVIS checkpoint is a dict of tensors (or {'model': dict of tensors})")
    return state


def _mapped(state: dict[str, torch.Tensor], instruction_aware: bool) -> tuple[dict[str, torch.Tensor], list[str]]:
    out, ignored, qv = {}, [], {}
    for key, value in state.items():
        bias = QKV_BIAS.match(key)
        if bias:
            qv.setdefault(bias.group(1), {})[bias.group(2)] = value
            continue
        target = lavis_to_instructvl(key, instruction_aware)
        if target is None:
            ignored.append(key)
        else:
            out[target] = value
    for layer, parts in qv.items():
        if set(parts) != {"q", "v"}:
            raise InstructVLError(f"visual_encoder.blocks.{layer}.attn: q_bias and v_bias come as a pair")
        out[qkv_bias_target(layer)] = torch.cat([parts["q"], torch.zeros_like(parts["v"]), parts["v"]])
    return out, ignored


def load_lavis_state_dict(model, source: str | Path | dict) -> LavisReport:
    """Copies a LAVIS state dict into `model` (an instructvl model with a BLIP ViT, a
    Q-Former head and a linear projector); loaded weights count as trained, so
    `save_pretrained` keeps them."""
    if not model.config.head.uses_qformer:
        raise InstructVLError(f"LAVIS checkpoints hold a Q-Former; this model's head is {model.config.head.type!r}")
    mapped, ignored = _mapped(read_lavis(source), model.config.head.uses_instruction)
    own = dict(model.named_parameters(remove_duplicate=False))  # tied weights under every name
    unknown = sorted(set(mapped) - set(own))
    if unknown:
        raise InstructVLError(
            f"LAVIS weights map to {unknown[:5]}, which this model does not have "
            "(is its architecture the checkpoint's?)"
        )
    report = LavisReport(ignored=sorted(ignored))
    for key, value in mapped.items():
        if own[key].shape != value.shape:
            raise InstructVLError(
                f"LAVIS weight for {key} has shape {tuple(value.shape)}, the model expects {tuple(own[key].shape)}"
            )
        own[key].data.copy_(value)
        component = key.split(".")[0]
        report.components[component] = report.components.get(component, 0) + 1
    model.trained_keys |= set(mapped)
    return report
