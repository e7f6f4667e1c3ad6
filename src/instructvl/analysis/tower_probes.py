"""Linear probes on a frozen vision tower: what its features carry, before any LLM.

Images: the still scenes of a SynthVL suite (every split, held-out concepts included;
the default is a suite generated with a seed no tower trains on). Attributes, each with
its own images: on single-object scenes of a shape or icon, its `shape`, `colour`,
`size` (small / medium / large), `column` and `row` (thirds of the image); on scenes of
1-4 objects, `count`; on every still scene, `text` (whether a sign or a word is drawn).
Features: the first (class) token, the mean patch token, and the patch tokens pooled to
a 3 x 3 grid (concatenated); the tower's last hidden state. Half the images of an
attribute fit a standardised logistic regression (`probes.probe_accuracy`), the other
half test it; the table gives each feature's accuracy, the best, and the majority
baseline. The targets below are what the offline tower must reach (issue 16)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch

from instructvl.analysis.probes import majority_accuracy, probe_accuracy
from instructvl.analysis.report import markdown_table, write_outputs
from instructvl.data.synthvl.loader import suite_samples
from instructvl.data.synthvl.scenes import Scene, size_word
from instructvl.data.synthvl.web_corpus import scene_key
from instructvl.plotting import pyplot, save_figure

ATTRIBUTES = ("shape", "colour", "size", "column", "row", "count", "text")
FEATURES = ("first", "mean", "grid")
TARGETS = {"shape": 0.90, "colour": 0.95, "size": 0.85, "column": 0.90, "count": 0.85}
THIRDS = (("left", "center", "right"), ("top", "middle", "bottom"))
TEXT_KINDS = ("sign", "text")


def still_scenes(root: str | Path) -> list[tuple[str, Scene]]:
    """(image path, scene) of every distinct single-image scene of the suite at `root`."""
    found: dict[str, tuple[str, Scene]] = {}
    for _, _, samples in suite_samples(root):
        for s in samples:
            record = s.metadata.get("scene")
            if len(s.images) == 1 and isinstance(record, dict) and "objects" in record:
                found.setdefault(scene_key(record), (s.images[0], Scene.from_dict(record)))
    return list(found.values())


def labelled(scenes: list[tuple[str, Scene]]) -> dict[str, list[tuple[str, str]]]:
    """Per attribute, the (image path, label) pairs it is probed on (module docstring)."""
    out: dict[str, list[tuple[str, str]]] = {a: [] for a in ATTRIBUTES}
    for path, sc in scenes:
        out["text"].append((path, str(any(o.kind in TEXT_KINDS for o in sc.objects))))
        if 1 <= len(sc.objects) <= 4:
            out["count"].append((path, str(len(sc.objects))))
        if len(sc.objects) == 1 and sc.objects[0].kind not in TEXT_KINDS:
            o = sc.objects[0]
            out["shape"].append((path, o.kind))
            out["colour"].append((path, o.colour))
            out["size"].append((path, size_word(o, sc)))
            out["column"].append((path, THIRDS[0][min(2, o.x * 3 // sc.width)]))
            out["row"].append((path, THIRDS[1][min(2, o.y * 3 // sc.height)]))
    return out


@torch.inference_mode()
def tower_features(encoder, paths: list[str], batch_size: int = 256, on_batch=None) -> dict[str, np.ndarray]:
    """The three features (module docstring) of each image, from `encoder`'s tower
    (a `VisionEncoder`; its processor prepares the pixels)."""
    from instructvl.models.vision import load_image, pooled_grid

    parts: dict[str, list[torch.Tensor]] = {f: [] for f in FEATURES}
    for start in range(0, len(paths), batch_size):
        batch = paths[start : start + batch_size]
        pixels = encoder.preprocess([load_image(p) for p in batch])
        hidden = encoder.tower(pixel_values=pixels).last_hidden_state.float()
        patches = hidden[:, 1:] if encoder.cfg.kind != "siglip" else hidden
        parts["first"].append(hidden[:, 0])
        parts["mean"].append(patches.mean(1))
        parts["grid"].append(pooled_grid(patches, 3).flatten(1))
        if on_batch is not None:
            on_batch(len(batch))
    return {f: torch.cat(v).numpy() for f, v in parts.items()}


def probe_tower(encoder, root: str | Path, *, seed: int = 0, limit: int = 2000, progress=None) -> dict[str, Any]:
    """Probe accuracies of `encoder` on the suite at `root`: per attribute at most `limit`
    images (shuffled by `seed`, then halved into fit and test), each feature's accuracy,
    the best, the majority baseline and the target where there is one."""
    rng = np.random.default_rng(seed)
    sets = {}
    for attribute, pairs in labelled(still_scenes(root)).items():
        order = rng.permutation(len(pairs))[:limit]
        sets[attribute] = [pairs[i] for i in order]
    paths = sorted({p for pairs in sets.values() for p, _ in pairs})
    feats = tower_features(encoder, paths, on_batch=progress)
    row_of = {p: i for i, p in enumerate(paths)}
    results = {}
    for attribute, pairs in sets.items():
        rows = [row_of[p] for p, _ in pairs]
        y = [label for _, label in pairs]
        half = len(rows) // 2
        scores = {f: probe_accuracy(v[rows[:half]], y[:half], v[rows[half:]], y[half:]) for f, v in feats.items()}
        results[attribute] = {
            "n_fit": half,
            "n_test": len(rows) - half,
            "classes": dict(Counter(y)),
            "majority": majority_accuracy(y[:half], y[half:]),
            "features": scores,
            "best": max(scores.values()),
            "target": TARGETS.get(attribute),
        }
    return {"images": len(paths), "seed": seed, "attributes": results}


def tower_table(result: dict) -> str:
    """Markdown: attribute, images, majority, each feature, best, target (and whether met)."""
    rows = []
    for attribute, r in result["attributes"].items():
        target = r["target"]
        met = "" if target is None else (" (met)" if r["best"] >= target else " (**not met**)")
        rows.append(
            [
                attribute,
                f"{r['n_fit']} / {r['n_test']}",
                f"{r['majority']:.2f}",
                *(f"{r['features'][f]:.2f}" for f in FEATURES),
                f"**{r['best']:.2f}**",
                "-" if target is None else f">= {target:.2f}{met}",
            ]
        )
    header = ["attribute", "fit / test images", "majority", *FEATURES, "best", "target"]
    return f"linear probes on the frozen tower {result['model']} (suite {result['suite']})\n\n" + markdown_table(
        header, rows
    )


def plot_tower(result: dict, path: Path) -> None:
    """Bars: best probe accuracy per attribute, majority baseline and target marked."""
    plt = pyplot()
    names = list(result["attributes"])
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar(names, [result["attributes"][a]["best"] for a in names], color="C0", label="best probe")
    ax.scatter(
        names,
        [result["attributes"][a]["majority"] for a in names],
        color="k",
        marker="_",
        s=400,
        label="majority",
        zorder=3,
    )
    targets = [(a, result["attributes"][a]["target"]) for a in names if result["attributes"][a]["target"]]
    ax.scatter([a for a, _ in targets], [t for _, t in targets], color="C3", marker="v", label="target", zorder=3)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("held-out accuracy")
    ax.set_title(f"linear probes, {result['model']}")
    ax.legend(fontsize=8, loc="lower left")
    save_figure(fig, path)


def run_tower_probes(encoder, model: str, root: Path, out_dir: Path, *, seed: int, limit: int, progress=None) -> dict:
    """`probe_tower`, labelled with the model and suite, written as tower.json / .md / .png."""
    result = {"analysis": "tower", "model": model, "suite": str(root), "limit": limit}
    result |= probe_tower(encoder, root, seed=seed, limit=limit, progress=progress)
    write_outputs(out_dir, "tower", result, tower_table(result), plot_tower)
    return result
