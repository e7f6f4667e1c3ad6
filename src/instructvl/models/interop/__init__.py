"""Interoperability: official transformers checkpoints (InstructBLIP with T5 or Llama LMs,
BLIP-2, LLaVA-1.5) in and out, and LAVIS-format InstructBLIP / BLIP-2 state dicts in.

- `from_transformers(path_or_id)` -> VisionLanguageModel (hf.py; families in blip.py, llava.py)
- `load_lavis_state_dict(model, path_or_state)` -> LavisReport (lavis.py)
- `export(model, format, out)` -> folder that transformers' `from_pretrained` loads (export.py)
"""

from instructvl.models.interop.export import FORMATS, export
from instructvl.models.interop.hf import from_transformers, is_transformers_checkpoint
from instructvl.models.interop.lavis import LavisReport, load_lavis_state_dict

__all__ = [
    "FORMATS",
    "LavisReport",
    "export",
    "from_transformers",
    "is_transformers_checkpoint",
    "load_lavis_state_dict",
]
