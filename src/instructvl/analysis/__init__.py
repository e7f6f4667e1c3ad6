"""Where does a trained model use the image? Analyses of the language model's layers.

- `probes`: layer-wise linear probes of visual attributes (colour, shape, count,
  position) from the hidden states (probes.py).
- `interventions`: accuracy on closed visual questions when the text positions' attention
  to the visual tokens is cut in a window of layers, by window (interventions.py).

    run_analysis("probes", model, data_dir, out_dir, seed=0, scale=1.0)

Each writes `<name>.json`, `<name>.md` and `<name>.png` into `out_dir`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from instructvl.errors import InstructVLError


def _probes(*args, **kwargs) -> dict:
    from instructvl.analysis.probes import run_probes

    return run_probes(*args, **kwargs)


def _interventions(*args, **kwargs) -> dict:
    from instructvl.analysis.interventions import run_interventions

    return run_interventions(*args, **kwargs)


ANALYSES: dict[str, Callable[..., dict]] = {"probes": _probes, "interventions": _interventions}


def check_name(name: str) -> None:
    """An `InstructVLError` listing the valid analyses unless `name` is one."""
    if name not in ANALYSES:
        raise InstructVLError(f"unknown analysis {name!r}; choose one of {', '.join(ANALYSES)}")


def run_analysis(
    name: str, model, data_dir: Path, out_dir: Path, *, seed: int, scale: float, progress: bool = False, **options: Any
) -> dict:
    """Runs analysis `name` on `model` over the SynthVL folder `data_dir`, writing its
    JSON, markdown table and PNG into `out_dir`; returns the result dict. `scale`
    multiplies the sample counts (1.0: a few minutes on 2 CPU cores for a 135M LLM);
    `options` go to the analysis (interventions: `window`, `stride`)."""
    check_name(name)
    if scale <= 0:
        raise InstructVLError(f"scale must be positive, got {scale}")
    return ANALYSES[name](model, Path(data_dir), Path(out_dir), seed=seed, scale=scale, progress=progress, **options)
