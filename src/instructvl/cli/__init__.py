"""The `instructvl` command line: one small module per verb, registered here."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from instructvl.errors import InstructVLError

app = typer.Typer(
    name="instructvl",
    help="Compose, instruction-tune, evaluate and compare vision-language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module registers its commands on `app` (or adds a sub-app) when imported.
_COMMAND_MODULES = (
    "instructvl.cli.info",
    "instructvl.cli.generate",
    "instructvl.cli.chat",
    "instructvl.cli.data",
    "instructvl.cli.export",
    "instructvl.cli.import_model",
    "instructvl.cli.eval",
    "instructvl.cli.compare",
    "instructvl.cli.pretrain_vision",
    "instructvl.cli.pretrain_blip2",
    "instructvl.cli.train",
    "instructvl.cli.quickstart",
    "instructvl.cli.analyze",
    "instructvl.cli.study",
    "instructvl.cli.serve",
)


def _register() -> None:
    importlib.import_module("instructvl.cli.common")  # its help fixes apply to every command
    for name in _COMMAND_MODULES:
        importlib.import_module(name)


def main() -> None:
    """Console entry point: runs the app and turns `InstructVLError` into a clean message."""
    _register()
    try:
        app()
    except InstructVLError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
