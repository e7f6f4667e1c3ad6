"""LAVIS-format InstructBLIP / BLIP-2 checkpoints (`.pth` files, or their `model` state
dict; the same state dict as a `.safetensors` file, or a folder holding one such file, as
`synthvl-blip2:<size>` is saved) loaded into an instructvl model of the matching
architecture by key mapping.

`.pth` files are read with `torch.load(weights_only=True)` only: tensors and plain
containers, never arbitrary pickled objects. Released LAVIS checkpoints are often trimmed to the
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
    """Which instructvl components received weights, how many tensors, the LAVIS keys
    with no counterpart (ignored), and the instructvl weights left out because their
    component was not asked for (skipped)."""

    components: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt")


def _checkpoint_file(path: Path) -> Path:
    """`path`, or the one LAVIS weights file in the folder `path`."""
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES)
        if len(found) != 1:
            raise InstructVLError(
                f"{path}: a LAVIS checkpoint folder holds exactly one weights file "
                f"({', '.join(WEIGHT_SUFFIXES)}), found {len(found)}"
            )
        return found[0]
    if not path.is_file():
        raise InstructVLError(f"LAVIS checkpoint not found: {path}")
    return path


def read_lavis(source: str | Path | dict) -> dict[str, torch.Tensor]:
    """The state dict of a LAVIS checkpoint (a file, its `model` entry when wrapped, or
    the one weights file of a folder)."""
    if isinstance(source, dict):
        state = source
    else:
        path = _checkpoint_file(Path(source))
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
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


def load_lavis_state_dict(model, source: str | Path | dict, components: tuple[str, ...] | None = None) -> LavisReport:
    """Copies a LAVIS state dict into `model` (an instructvl model with a BLIP ViT, a
    Q-Former head and a linear projector); loaded weights count as trained, so
    `save_pretrained` keeps them. With `components` (e.g. ("head", "projector")), only
    the weights of those are loaded; the others are reported as skipped."""
    if not model.config.head.uses_qformer:
        raise InstructVLError(f"LAVIS checkpoints hold a Q-Former; this model's head is {model.config.head.type!r}")
    mapped, ignored = _mapped(read_lavis(source), model.config.head.uses_instruction)
    if components is not None:
        skipped = sorted(k for k in mapped if k.split(".")[0] not in components)
        mapped = {k: v for k, v in mapped.items() if k.split(".")[0] in components}
    else:
        skipped = []
    own = dict(model.named_parameters(remove_duplicate=False))  # tied weights under every name
    unknown = sorted(set(mapped) - set(own))
    if unknown:
        raise InstructVLError(
            f"LAVIS weights map to {unknown[:5]}, which this model does not have "
            "(is its architecture the checkpoint's?)"
        )
    report = LavisReport(ignored=sorted(ignored), skipped=skipped)
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
