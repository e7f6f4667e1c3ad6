"""Scene descriptions: the ground truth every SynthVL example is derived from.

A `Scene` is a list of `Obj`s (kind, colour, size, centre, optional text) on a
background. Every answer, caption and label is computed from a scene by the small
functions in this module, and the scene is stored in `metadata["scene"]` so tests and
probes can re-derive them. Coordinates and sizes are integer pixels of the scene's image.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

# --- vocabularies ---------------------------------------------------------------------

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 160, 40),
    "blue": (30, 70, 220),
    "yellow": (240, 210, 20),
    "orange": (245, 130, 10),
    "purple": (130, 40, 170),
    "black": (15, 15, 15),
    "brown": (120, 70, 25),
    # novel colours: only ever used by held-out nocaps
    "pink": (250, 120, 190),
    "teal": (0, 140, 140),
    "maroon": (110, 0, 40),
    # backgrounds and text
    "white": (255, 255, 255),
    "gray": (150, 150, 150),
    "cream": (250, 244, 225),
    "sky": (190, 225, 250),
    "grass": (150, 200, 120),
    "sand": (225, 205, 160),
}
HELD_IN_COLOURS = ("red", "green", "blue", "yellow", "orange", "purple", "black", "brown")
NOVEL_COLOURS = ("pink", "teal", "maroon")
BACKGROUNDS = ("white", "cream", "gray")

SHAPES = ("circle", "square", "triangle", "star", "diamond", "hexagon")
NOVEL_SHAPES = ("pentagon", "cross", "trapezoid")
ICONS = ("heart", "sun", "moon", "drop", "bolt", "leaf", "snowflake", "flame")
NOVEL_WORDS = NOVEL_COLOURS + NOVEL_SHAPES
"""Words that must never occur in held-in data (checked by the leak test)."""

SIDES = {"triangle": 3, "square": 4, "diamond": 4, "pentagon": 5, "hexagon": 6}
SIZE_WORDS = ("small", "medium", "large")
SIZE_FRACTIONS = {"small": (0.16, 0.22), "medium": (0.27, 0.33), "large": (0.38, 0.45)}
WORDS = (
    "CAT",
    "DOG",
    "SUN",
    "STOP",
    "OPEN",
    "SALE",
    "EXIT",
    "PARK",
    "BOOK",
    "MILK",
    "TAXI",
    "CAFE",
    "HOME",
    "BUS",
    "FISH",
    "TREE",
    "LAKE",
    "ROAD",
    "BANK",
    "SHOP",
)


@dataclass
class Obj:
    """One drawn thing: a shape, an icon, a sign with a word, or bare text.

    `kind` is a shape or icon name, "sign" (a filled box with `text` on it) or "text"
    (bare `text` in `colour`); `size` is the side of its bounding box (font size for
    text); (`x`, `y`) is its centre; `role` names what text is for ("title", "author").
    """

    kind: str
    colour: str
    size: int
    x: int
    y: int
    text: str = ""
    role: str = ""

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the object's box (text boxes are estimated by render)."""
        h = self.size // 2
        return (self.x - h, self.y - h, self.x - h + self.size, self.y - h + self.size)

    def name(self) -> str:
        """A noun phrase: colour and kind, e.g. "red circle" or "blue sign"."""
        return f"{self.colour} {self.kind}"


@dataclass
class Scene:
    """An image description: objects drawn in list order (later ones on top).

    `style` is "plain" (flat background), "horizon" (sky over ground: the flickr style),
    "cover" (a book cover) or "meme"; `degrade` holds vizwiz-style damage
    (`blur` radius, `noise` sigma, `occluder` box) applied after drawing.
    """

    width: int = 64
    height: int = 64
    background: str = "white"
    style: str = "plain"
    objects: list[Obj] = field(default_factory=list)
    degrade: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the form stored in `metadata["scene"]`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scene:
        """Inverse of `to_dict`."""
        data = dict(d)
        data["objects"] = [Obj(**o) for o in d.get("objects", [])]
        return cls(**data)


# --- attribute words --------------------------------------------------------------------


def size_word(o: Obj, scene: Scene) -> str:
    """ "small", "medium" or "large" from the object's size relative to the scene width."""
    frac = o.size / scene.width
    if frac < 0.25:
        return "small"
    return "medium" if frac < 0.355 else "large"


def position_word(o: Obj, scene: Scene) -> str:
    """Where the centre lies on a 3x3 grid: "top left", "center", "bottom", ..."""
    col = ("left", "", "right")[min(2, o.x * 3 // scene.width)]
    row = ("top", "", "bottom")[min(2, o.y * 3 // scene.height)]
    words = " ".join(w for w in (row, col) if w)
    return words or "center"


RELATIONS = ("left of", "right of", "above", "below")
OPPOSITE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}


def relation_holds(a: Obj, b: Obj, rel: str, margin: int = 4) -> bool:
    """Whether `a` is `rel` `b` ("left of", "right of", "above", "below", "overlapping")."""
    if rel == "left of":
        return a.x + margin < b.x
    if rel == "right of":
        return a.x > b.x + margin
    if rel == "above":
        return a.y + margin < b.y
    if rel == "below":
        return a.y > b.y + margin
    if rel == "overlapping":
        ax0, ay0, ax1, ay1 = a.bbox
        bx0, by0, bx1, by1 = b.bbox
        return ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1
    raise ValueError(f"unknown relation {rel!r}")


def clear_relation(a: Obj, b: Obj, rng: random.Random, margin: int = 8) -> str | None:
    """A relation that clearly holds between `a` and `b` (by at least `margin` px), or None."""
    options = [r for r in RELATIONS if relation_holds(a, b, r, margin)]
    return rng.choice(options) if options else None


def count(scene: Scene, kind: str | None = None, colour: str | None = None) -> int:
    """How many objects match `kind` and/or `colour`."""
    return sum(1 for o in scene.objects if (kind is None or o.kind == kind) and (colour is None or o.colour == colour))


NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


def plural(noun: str, n: int) -> str:
    """`noun` pluralised for `n` ("circles", "boxes"); the phrase keeps its first words."""
    if n == 1:
        return noun
    if noun.endswith("leaf"):
        return noun[:-1] + "ves"
    return noun + ("es" if noun.endswith(("x", "s", "sh", "ch")) else "s")


# --- scene sampling -------------------------------------------------------------------


def sample_size(rng: random.Random, width: int, word: str | None = None) -> int:
    """An object size in pixels for a size word (random word when None)."""
    lo, hi = SIZE_FRACTIONS[word or rng.choice(SIZE_WORDS)]
    return max(6, round(rng.uniform(lo, hi) * width))


def place(rng: random.Random, scene: Scene, size: int, avoid: bool = True, tries: int = 40) -> tuple[int, int]:
    """A centre for an object of `size` inside the scene; with `avoid`, away from others."""
    half = size // 2 + 1
    best, best_gap = None, -1e9
    for _ in range(tries):
        x = rng.randint(half, scene.width - half)
        y = rng.randint(half, scene.height - half)
        if not avoid or not scene.objects:
            return x, y
        gap = min(max(abs(x - o.x), abs(y - o.y)) - (size + o.size) / 2 for o in scene.objects)
        if gap >= 2:
            return x, y
        if gap > best_gap:
            best, best_gap = (x, y), gap
    return best  # type: ignore[return-value]


def random_scene(
    rng: random.Random,
    width: int = 64,
    height: int | None = None,
    n_objects: tuple[int, int] = (1, 4),
    kinds: tuple[str, ...] = SHAPES,
    colours: tuple[str, ...] = HELD_IN_COLOURS,
    distinct: bool = True,
    overlap_p: float = 0.2,
    background: str | None = None,
    style: str = "plain",
) -> Scene:
    """A scene of random objects; with `distinct`, no two share (colour, kind).

    With probability `overlap_p` an object may be placed over earlier ones.
    """
    scene = Scene(width=width, height=height or width, style=style, background=background or rng.choice(BACKGROUNDS))
    n = rng.randint(*n_objects)
    used: set[tuple[str, str]] = set()
    while len(scene.objects) < n:
        kind, colour = rng.choice(kinds), rng.choice(colours)
        if distinct and (kind, colour) in used:
            continue
        used.add((kind, colour))
        size = sample_size(rng, width)
        x, y = place(rng, scene, size, avoid=rng.random() >= overlap_p)
        scene.objects.append(Obj(kind, colour, size, x, y))
    return scene


def add_sign(
    rng: random.Random, scene: Scene, words: tuple[str, ...] = WORDS, colours: tuple[str, ...] = HELD_IN_COLOURS
) -> Obj:
    """Adds a sign with a random word (and a colour not yet used by a sign) and returns it."""
    size = max(14, round(scene.width * rng.uniform(0.3, 0.36)))
    x, y = place(rng, scene, size + scene.width // 8)
    x = min(max(x, round(scene.width * 0.3)), round(scene.width * 0.7))
    signs = [o for o in scene.objects if o.kind == "sign"]
    colour = rng.choice([c for c in colours if c not in {s.colour for s in signs}])
    o = Obj("sign", colour, size, x, y, text=rng.choice([w for w in words if w not in {s.text for s in signs}]))
    scene.objects.append(o)
    return o


def unique_objects(scene: Scene) -> list[Obj]:
    """Objects whose kind occurs once in the scene (so "the <kind>" names one object)."""
    return [o for o in scene.objects if count(scene, kind=o.kind) == 1]


def visible_fraction(o: Obj, scene: Scene) -> float:
    """The share of `o`'s box not covered by later objects' boxes or the occluder (approx.)."""
    x0, y0, x1, y1 = o.bbox
    covers = [p.bbox for p in scene.objects[scene.objects.index(o) + 1 :]]
    if scene.degrade.get("occluder"):
        covers.append(tuple(scene.degrade["occluder"]))
    total = hidden = 0
    for yy in range(y0, y1, 2):
        for xx in range(x0, x1, 2):
            total += 1
            hidden += any(c[0] <= xx < c[2] and c[1] <= yy < c[3] for c in covers)
    return 1.0 - hidden / max(1, total)
