"""`instructvl chat`: an interactive loop: load an image, ask questions, keep the history."""

from __future__ import annotations

import typer

from instructvl.cli import app
from instructvl.cli.common import console, err_console, load_model_with_status
from instructvl.errors import InstructVLError

COMMANDS = "/image PATH (new image, new conversation), /reset (forget the history), /quit or /exit (end; Ctrl-D too)"


@app.command(help=f"Chat about an image: type questions; the conversation history is kept.\n\nCommands: {COMMANDS}.")
def chat(
    model: str = typer.Option(
        "tiny-offline", "--model", "-m", help="A saved model directory, a preset name, or a YAML config."
    ),
    image: str | None = typer.Option(None, "--image", "-i", help="Image to start with (or use /image PATH)."),
    max_new_tokens: int = typer.Option(128, min=1, help="Most tokens per answer."),
    temperature: float = typer.Option(0.0, min=0.0, help="Sampling temperature (0: greedy)."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a config key (repeatable)."),
) -> None:
    """The chat loop (its help text, `help=` above, lists the `COMMANDS`)."""
    from instructvl.data.schema import Sample, Turn
    from instructvl.models.vision import load_image
    from instructvl.models.vlm import generation_options

    vlm = load_model_with_status(model, set_)
    images: list[str] = []
    turns: list[Turn] = []

    def use_image(path: str) -> None:
        load_image(path)  # fail now, clearly, rather than at the next question
        images[:] = [path]
        turns.clear()
        console.print(f"[dim]image: {path}[/]")

    if image:
        use_image(image)
    console.print(f"[dim]commands: {COMMANDS}[/]")
    while True:
        try:
            line = console.input("[bold]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        if line == "/reset":
            turns.clear()
            continue
        try:
            if line.startswith("/image"):
                use_image(line.partition(" ")[2].strip())
                continue
            turns.append(Turn("user", line))
            sample = Sample(id="chat", dataset="chat", images=list(images), turns=list(turns))
            answer = vlm.generate_text([sample], **generation_options(max_new_tokens, 1, temperature, 0))[0]
        except InstructVLError as exc:
            if turns and turns[-1].role == "user":
                turns.pop()
            err_console.print(f"[red]error:[/] {exc}")
            continue
        turns.append(Turn("assistant", answer))
        console.print(f"[bold]model>[/] {answer}", highlight=False)
