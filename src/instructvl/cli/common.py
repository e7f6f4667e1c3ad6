"""Helpers shared by the command modules: model loading with a status line, consoles,
option checks and help-text layout."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable

import typer
from rich.console import Console
from typer.core import TyperOption

console = Console()
err_console = Console(stderr=True)


def _flags_show_no_value_type() -> None:
    """Makes typer's rich help show no value type beside a flag (`--strict`,
    `--resume/--no-resume`, `--help`): it printed `<bool>` there, as if the flag took a
    value, while `--strict true` is refused. Typer's plain help already shows none."""
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich


_flags_show_no_value_type()  # applied on import; cli._register imports this module first


def flowing_help(command: Callable) -> Callable:
    """Decorator (under `@app.command()`): joins the lines of each paragraph of the command's
    docstring, which typer's rich help would print line by line after the first paragraph,
    so every paragraph wraps to the terminal."""
    paragraphs = inspect.cleandoc(command.__doc__ or "").split("\n\n")
    command.__doc__ = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    return command


def not_blank(value: str) -> str:
    """Typer callback for a text option: refuses an empty or whitespace-only value."""
    if not value.strip():
        raise typer.BadParameter("must not be empty or whitespace only: give the text")
    return value


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
