"""Images from requests, which are untrusted: `data:` URLs (base64) and, when the server
names a folder, `file://` URLs inside it. Remote URLs are refused (the server makes no
outbound requests). The pixel count is checked from the image header before anything is
decoded, so a decompression bomb costs nothing."""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image

from instructvl.serving.errors import bad_request
from instructvl.serving.settings import Settings

FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")


def image_bytes(url: str, settings: Settings, where: str) -> bytes:
    """The encoded image an `image_url.url` names; `where` says which image it is in
    error messages (e.g. "messages[0].content[1]")."""
    head = url[:16].lower()
    if head.startswith("data:"):
        return _data_url(url, where)
    if head.startswith("file:") or ("://" not in head and settings.image_dir is not None):
        return _local_file(url, settings, where)
    raise bad_request(
        f"{where}: only data: URLs are accepted (data:image/png;base64,...); this server fetches nothing "
        f"from the network{'' if settings.image_dir else ' and was started without --image-dir'}",
        param=where,
        code="image_url_refused",
    )


def _data_url(url: str, where: str) -> bytes:
    header, comma, payload = url.partition(",")
    if not comma or not header.lower().endswith(";base64"):
        raise bad_request(
            f"{where}: a data URL must be base64: data:image/png;base64,<payload>", param=where, code="invalid_image"
        )
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(
            f"{where}: the data URL's payload is not valid base64", param=where, code="invalid_image"
        ) from None


def _local_file(url: str, settings: Settings, where: str) -> bytes:
    if settings.image_dir is None:
        raise bad_request(
            f"{where}: file URLs are refused: this server was started without --image-dir",
            param=where,
            code="image_url_refused",
        )
    name = unquote(urlsplit(url).path) if url[:5].lower() == "file:" else url
    root = Path(settings.image_dir).resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise bad_request(f"{where}: {name} is outside the image folder --image-dir", param=where, code="invalid_image")
    if not path.is_file():
        raise bad_request(f"{where}: no image file {name} in --image-dir", param=where, code="invalid_image")
    if path.stat().st_size > settings.max_body_bytes:
        raise bad_request(
            f"{where}: {name} is over {settings.max_body_bytes:,} bytes, the size limit for an image",
            param=where,
            code="invalid_image",
        )
    return path.read_bytes()


def decode_image(data: bytes, max_pixels: int, where: str) -> Image.Image:
    """The RGB image `data` encodes (PNG, JPEG, WebP, GIF or BMP), refused (400) when it
    is not one, is damaged, or has more than `max_pixels` pixels."""
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise _too_many_pixels(where, max_pixels, "") from None
    except Exception:  # noqa: BLE001 - Pillow raises many types for what it cannot identify
        expected = ", ".join(FORMATS)
        raise bad_request(
            f"{where}: not an image this server reads (expected {expected})", param=where, code="invalid_image"
        ) from None
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels(where, max_pixels, f" ({width} x {height} = {width * height:,})")
    try:
        return image.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - truncated or corrupt data fails here, in many types
        raise bad_request(
            f"{where}: the {image.format} image cannot be decoded ({exc})", param=where, code="invalid_image"
        ) from None


def _too_many_pixels(where: str, max_pixels: int, size: str):
    return bad_request(
        f"{where}: the image has too many pixels{size}; this server takes at most {max_pixels:,} (--max-image-pixels)",
        param=where,
        code="image_too_large",
    )
