"""What `instructvl serve` accepts and how much: the bounds every request is held to,
with the defaults `instructvl serve --help` shows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from instructvl.errors import InstructVLError

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """The server's name for its model, its API key (None: no key asked) and its bounds.

    A request body (base64 images included) over `max_body_bytes` gets 413; an image over
    `max_image_pixels` (checked from its header, before decoding: decompression bombs),
    more than `max_images` images, `max_tokens` over its cap or a prompt over
    `max_prompt_tokens` get 400. At most `max_batch_size` requests generate together and
    `max_queue` wait; one more gets 429 with Retry-After. A request still unanswered
    `request_timeout` seconds after it arrived is stopped (504). An idle server waits up to
    `batch_wait` seconds for requests that are arriving (being read or prepared), so that
    requests sent together start together; later ones join the running batch. `image_dir`: the one local folder
    whose images a request may name (`file://` URLs); remote URLs are always refused."""

    model_name: str
    api_key: str | None = None
    max_body_bytes: int = 8 * MIB
    max_image_pixels: int = 4096 * 4096
    max_images: int = 8
    max_tokens: int = 512
    max_prompt_tokens: int = 2048
    max_batch_size: int = 8
    max_queue: int = 16
    batch_wait: float = 0.05
    request_timeout: float = 120.0
    image_dir: Path | None = None

    def __post_init__(self) -> None:
        positive = ("max_body_bytes", "max_image_pixels", "max_tokens", "max_prompt_tokens", "max_batch_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise InstructVLError(f"serve: {name} is {getattr(self, name)}; expected at least 1")
        for name in ("max_images", "max_queue", "batch_wait"):
            if getattr(self, name) < 0:
                raise InstructVLError(f"serve: {name} is {getattr(self, name)}; expected 0 or more")
        if self.request_timeout <= 0:
            raise InstructVLError(f"serve: request_timeout is {self.request_timeout}; expected more than 0 seconds")
        if self.api_key is not None and not self.api_key.strip():
            raise InstructVLError("serve: the API key is empty; give a non-empty key or none")
        if self.image_dir is not None and not Path(self.image_dir).is_dir():
            raise InstructVLError(f"serve: the image folder {self.image_dir} does not exist or is not a folder")
