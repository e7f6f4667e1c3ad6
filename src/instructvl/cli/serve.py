"""`instructvl serve`: an OpenAI-compatible API and a web demo for a model."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvl.cli import app
from instructvl.cli.common import console, flowing_help, load_model_with_status
from instructvl.errors import InstructVLError
from instructvl.serving.settings import MIB, Settings

API_KEY_ENV = "INSTRUCTVL_API_KEY"
LOG_LEVELS = ("debug", "info", "warning", "error")


def _log_level(value: str) -> str:
    if value.lower() not in LOG_LEVELS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
    return value.lower()


def check_exposure(host: str, allow_remote: bool, api_key: str | None) -> None:
    """Loopback by default: another address needs --allow-remote and an API key."""
    from instructvl.serving.server import is_loopback

    if is_loopback(host):
        return
    if not allow_remote:
        raise InstructVLError(
            f"--host {host} would expose the server beyond this machine; add --allow-remote (and an API key: "
            f"--api-key or ${API_KEY_ENV}) to mean it, or keep the default --host 127.0.0.1"
        )
    if not api_key:
        raise InstructVLError(
            f"--allow-remote needs an API key, checked on every API request: give --api-key KEY or set ${API_KEY_ENV}"
        )


@app.command()
@flowing_help
def serve(
    model: str = typer.Option(
        "tiny-offline", "--model", "-m", help="A saved model directory, a preset name, or a YAML config."
    ),
    host: str = typer.Option("127.0.0.1", help="Address to listen on. Not a loopback one: needs --allow-remote."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to listen on (0: any free port, printed)."),
    served_model_name: str | None = typer.Option(
        None, help="The model name clients send and /v1/models lists (default: the --model value)."
    ),
    api_key: str | None = typer.Option(
        None,
        envvar=API_KEY_ENV,
        show_envvar=True,
        help="Key every API request must send as 'Authorization: Bearer KEY' (the page at / and /health are open).",
    ),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow a --host other than loopback (an API key is then required)."
    ),
    image_dir: Path | None = typer.Option(
        None, help="A folder whose images requests may name as file:// URLs or relative paths (default: none)."
    ),
    max_body_mb: float = typer.Option(8.0, min=0.01, help="Largest request body in MiB, base64 images included (413)."),
    max_image_pixels: int = typer.Option(4096 * 4096, min=1, help="Most pixels in one image (bigger: 400)."),
    max_images: int = typer.Option(8, min=0, help="Most images in one request."),
    max_tokens: int = typer.Option(512, min=1, help="Most tokens one answer may ask for (and the default)."),
    max_prompt_tokens: int = typer.Option(2048, min=1, help="Longest prompt in tokens, visual tokens included."),
    max_batch_size: int = typer.Option(8, min=1, help="Requests generated together in one batch."),
    max_queue: int = typer.Option(16, min=0, help="Requests that may wait for a batch; one more gets 429."),
    batch_wait_ms: float = typer.Option(
        50.0, min=0.0, help="How long an idle server waits for requests being sent with the first one."
    ),
    request_timeout: float = typer.Option(120.0, min=0.1, help="Seconds a request may take in all (then 504)."),
    log_level: str = typer.Option("info", help=f"Server log level: {', '.join(LOG_LEVELS)}.", callback=_log_level),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a config key (repeatable)."),
) -> None:
    """Serve a model over HTTP: an OpenAI-compatible chat-completions API and a web demo.

    Endpoints: POST /v1/chat/completions (messages with text and image_url parts, images
    as data: URLs; max_tokens, temperature, top_p, stop, seed; "stream": true for
    server-sent events), GET /v1/models, GET /health, and the demo page at /. Omitted
    temperature means greedy decoding. Up to --max-batch-size requests generate together:
    a request joins the running batch between two tokens and leaves it when its answer ends
    (seq2seq models run one batch at a time); past --max-batch-size + --max-queue requests
    the server answers 429 with Retry-After. Errors are JSON: {"error": {"message",
    "type", "param", "code"}}.

    Try it: curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type:
    application/json' -d '{"model": "tiny-offline", "messages": [{"role": "user",
    "content": "Hello"}]}', or the openai client with base_url="http://127.0.0.1:8000/v1"."""
    check_exposure(host, allow_remote, api_key)
    settings = Settings(
        model_name=served_model_name or model,
        api_key=api_key,
        max_body_bytes=int(max_body_mb * MIB),
        max_image_pixels=max_image_pixels,
        max_images=max_images,
        max_tokens=max_tokens,
        max_prompt_tokens=max_prompt_tokens,
        max_batch_size=max_batch_size,
        max_queue=max_queue,
        batch_wait=batch_wait_ms / 1000,
        request_timeout=request_timeout,
        image_dir=image_dir,
    )
    from instructvl.serving.server import address, bind, make_server

    try:  # before the model loads (minutes on a first run), so a taken port fails at once
        sock = bind(host, port)
    except OSError as exc:
        raise InstructVLError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    vlm = load_model_with_status(model, set_)
    url = address(sock)
    console.print(
        f"serving {settings.model_name} at {url}  (demo: {url}/  API: {url}/v1  health: {url}/health)",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    make_server(vlm, settings, log_level=log_level).run(sockets=[sock])
