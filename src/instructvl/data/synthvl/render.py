"""Rendering scenes to Pillow images, and writing PNG bytes deterministically.

Shapes and icons are drawn into a per-object mask and the colour is pasted through it,
so every kind is drawn the same way (and a crescent's bite shows what lies beneath).
Text uses Pillow's embedded TrueType font (`ImageFont.load_default(size=N)`): no system
fonts, so the same scene gives the same pixels everywhere.
"""

from __future__ import annotations

import functools
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from instructvl.data.synthvl.scenes import COLOURS, Obj, Scene


@functools.lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's embedded TrueType font at `size` px (cached)."""
    return ImageFont.load_default(size=size)


def text_box(text: str, size: int, x: int, y: int) -> tuple[int, int, int, int]:
    """The box (x0, y0, x1, y1) that `text` at font `size` covers when centred on (x, y)."""
    x0, y0, x1, y1 = font(size).getbbox(text, anchor="mm")
    return (x + x0, y + y0, x + x1, y + y1)


def _star(cx: float, cy: float, r: float, points: int = 5) -> list[tuple[float, float]]:
    out = []
    for i in range(points * 2):
        rad = r if i % 2 == 0 else r * 0.45
        a = -math.pi / 2 + i * math.pi / points
        out.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    return out


def _regular(cx: float, cy: float, r: float, n: int, start: float = -math.pi / 2):
    return [
        (cx + r * math.cos(start + 2 * math.pi * i / n), cy + r * math.sin(start + 2 * math.pi * i / n))
        for i in range(n)
    ]


def _draw_mask(d: ImageDraw.ImageDraw, kind: str, x0: float, y0: float, s: float) -> None:
    """Draws `kind` filling the box (x0, y0, s, s) in white on mask drawer `d`."""
    x1, y1, cx, cy, r = x0 + s, y0 + s, x0 + s / 2, y0 + s / 2, s / 2
    on, off = 255, 0
    if kind == "circle":
        d.ellipse([x0, y0, x1, y1], fill=on)
    elif kind == "square":
        d.rectangle([x0, y0, x1, y1], fill=on)
    elif kind == "triangle":
        d.polygon([(cx, y0), (x0, y1), (x1, y1)], fill=on)
    elif kind == "star":
        d.polygon(_star(cx, cy, r), fill=on)
    elif kind == "diamond":
        d.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=on)
    elif kind == "hexagon":
        d.polygon(_regular(cx, cy, r, 6, 0.0), fill=on)
    elif kind == "pentagon":
        d.polygon(_regular(cx, cy, r, 5), fill=on)
    elif kind == "cross":
        w = s / 3
        d.rectangle([cx - w / 2, y0, cx + w / 2, y1], fill=on)
        d.rectangle([x0, cy - w / 2, x1, cy + w / 2], fill=on)
    elif kind == "trapezoid":
        d.polygon(
            [(x0 + s * 0.25, y0 + s * 0.2), (x1 - s * 0.25, y0 + s * 0.2), (x1, y1 - s * 0.2), (x0, y1 - s * 0.2)],
            fill=on,
        )
    elif kind == "moon":
        d.ellipse([x0, y0, x1, y1], fill=on)
        d.ellipse([x0 + s * 0.35, y0 - s * 0.1, x1 + s * 0.35, y1 - s * 0.1], fill=off)
    elif kind == "heart":
        d.ellipse([x0, y0, cx + 1, cy + 1], fill=on)
        d.ellipse([cx - 1, y0, x1, cy + 1], fill=on)
        d.polygon([(x0 + 0.5, y0 + s * 0.32), (x1 - 0.5, y0 + s * 0.32), (cx, y1)], fill=on)
    elif kind == "sun":
        d.ellipse([cx - s * 0.28, cy - s * 0.28, cx + s * 0.28, cy + s * 0.28], fill=on)
        for i in range(8):
            a = i * math.pi / 4
            d.line(
                [
                    (cx + r * 0.4 * math.cos(a), cy + r * 0.4 * math.sin(a)),
                    (cx + r * math.cos(a), cy + r * math.sin(a)),
                ],
                fill=on,
                width=max(1, round(s / 10)),
            )
    elif kind == "drop":
        d.ellipse([x0 + s * 0.15, y0 + s * 0.3, x1 - s * 0.15, y1], fill=on)
        d.polygon([(cx, y0), (x0 + s * 0.17, y0 + s * 0.62), (x1 - s * 0.17, y0 + s * 0.62)], fill=on)
    elif kind == "bolt":
        d.polygon(
            [
                (x0 + s * 0.6, y0),
                (x0 + s * 0.2, y0 + s * 0.55),
                (x0 + s * 0.48, y0 + s * 0.55),
                (x0 + s * 0.35, y1),
                (x0 + s * 0.82, y0 + s * 0.4),
                (x0 + s * 0.54, y0 + s * 0.4),
            ],
            fill=on,
        )
    elif kind == "leaf":
        pts = [
            (
                x0 + s * (0.15 + 0.7 * t) - s * 0.28 * math.sin(math.pi * t),
                y1 - s * (0.15 + 0.7 * t) - s * 0.28 * math.sin(math.pi * t),
            )
            for t in np.linspace(0, 1, 9)
        ]
        pts += [
            (
                x0 + s * (0.15 + 0.7 * t) + s * 0.28 * math.sin(math.pi * t),
                y1 - s * (0.15 + 0.7 * t) + s * 0.28 * math.sin(math.pi * t),
            )
            for t in np.linspace(1, 0, 9)
        ]
        d.polygon(pts, fill=on)
        d.line([(x0, y1), (cx, cy)], fill=on, width=max(1, round(s / 12)))
    elif kind == "snowflake":
        w = max(1, round(s / 9))
        for i in range(3):
            a = i * math.pi / 3
            d.line(
                [(cx - r * math.cos(a), cy - r * math.sin(a)), (cx + r * math.cos(a), cy + r * math.sin(a))],
                fill=on,
                width=w,
            )
        d.ellipse([cx - s * 0.12, cy - s * 0.12, cx + s * 0.12, cy + s * 0.12], fill=on)
    elif kind == "flame":
        d.ellipse([x0 + s * 0.15, y0 + s * 0.45, x1 - s * 0.15, y1], fill=on)
        d.polygon(
            [
                (x0 + s * 0.15, y0 + s * 0.7),
                (x0 + s * 0.1, y0 + s * 0.25),
                (x0 + s * 0.35, y0 + s * 0.45),
                (cx, y0),
                (x1 - s * 0.35, y0 + s * 0.45),
                (x1 - s * 0.1, y0 + s * 0.25),
                (x1 - s * 0.15, y0 + s * 0.7),
            ],
            fill=on,
        )
    else:
        raise ValueError(f"cannot draw kind {kind!r}")


def _text_colour(bg: str) -> tuple[int, int, int]:
    r, g, b = COLOURS[bg]
    return (0, 0, 0) if r * 0.3 + g * 0.59 + b * 0.11 > 120 else (255, 255, 255)


def draw_object(img: Image.Image, o: Obj, label: int | None = None) -> None:
    """Draws one object onto `img` in place: in its colour, or, with `label`, as that
    value over every pixel the object covers (a sign's board, its lettering included)."""
    d = ImageDraw.Draw(img)
    fill = COLOURS[o.colour] if label is None else label
    if o.kind == "text":
        d.text((o.x, o.y), o.text, font=font(o.size), fill=fill, anchor="mm")
        return
    if o.kind == "sign":
        fs = max(8, round(o.size * 0.5))
        x0, y0, x1, y1 = text_box(o.text, fs, o.x, o.y)
        d.rectangle([x0 - 3, y0 - 3, x1 + 2, y1 + 2], fill=fill)
        if label is None:
            d.text((o.x, o.y), o.text, font=font(fs), fill=_text_colour(o.colour), anchor="mm")
        return
    mask = Image.new("L", img.size, 0)
    _draw_mask(ImageDraw.Draw(mask), o.kind, o.x - o.size / 2, o.y - o.size / 2, o.size - 1)
    img.paste(fill, mask=mask)


def _background(scene: Scene) -> Image.Image:
    img = Image.new("RGB", (scene.width, scene.height), COLOURS[scene.background])
    if scene.style == "horizon":
        d = ImageDraw.Draw(img)
        d.rectangle([0, 0, scene.width, scene.height * 0.55], fill=COLOURS["sky"])
        d.rectangle([0, scene.height * 0.55, scene.width, scene.height], fill=COLOURS[scene.background])
    elif scene.style == "cover":
        d = ImageDraw.Draw(img)
        d.rectangle([1, 1, scene.width - 2, scene.height - 2], outline=(40, 40, 40))
    return img


def _degrade(img: Image.Image, deg: dict) -> Image.Image:
    if deg.get("occluder"):
        ImageDraw.Draw(img).rectangle(list(deg["occluder"]), fill=tuple(deg.get("occluder_rgb", (60, 60, 60))))
    if deg.get("blur"):
        img = img.filter(ImageFilter.GaussianBlur(deg["blur"]))
    if deg.get("noise"):
        rs = np.random.Generator(np.random.PCG64(int(deg.get("noise_seed", 0))))
        noise = rs.normal(0, deg["noise"], (img.height, img.width, 3)).round().astype(np.int16)
        arr = np.asarray(img, dtype=np.int16) + noise
        img = Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")
    return img


def render(scene: Scene) -> Image.Image:
    """The scene as an RGB image: background, objects in order, then any damage."""
    img = _background(scene)
    for o in scene.objects:
        draw_object(img, o)
    return _degrade(img, scene.degrade) if scene.degrade else img


def label_map(scene: Scene, label_of) -> np.ndarray:
    """[height, width] uint8: at each pixel `label_of(o)` (1-255) of the object drawn
    last over it, 0 where no object is (damage ignored): the scene's segmentation."""
    img = Image.new("L", (scene.width, scene.height), 0)
    for o in scene.objects:
        draw_object(img, o, label_of(o))
    return np.asarray(img)


def png_bytes(img: Image.Image) -> bytes:
    """PNG bytes of `img` (no metadata, fixed compression: same pixels give same bytes)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
