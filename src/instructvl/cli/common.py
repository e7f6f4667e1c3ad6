"""Helpers shared by the command modules: model loading with a status line, consoles."""

from __future__ import annotations

import os

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def quiet_libraries() -> None:
    """Silences transformers' per-file progress bars and info logs (we show our own)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()


def load_model_with_status(model: str, overrides: list[str] | None):
    """Loads a model (preset, YAML or directory), telling the user what takes time."""
    quiet_libraries()
    from instructvl.models.load import load_model

    with err_console.status(f"loading {model} (a GGUF language model is converted once, about 40 s, then cached)"):
        return load_model(model, overrides)
