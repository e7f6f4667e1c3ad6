"""Layer-wise linear probes: which visual attributes can be read linearly from each layer
of the language model.

For simple SynthVL scenes never trained on (`images.py`), the prompt is the image and a
neutral caption instruction; per layer (see `features.py` for the layer axis) two
features are taken: the mean over the visual token positions and the last prompt token.
Labels come from the scene: colour and shape of its subject (the largest object, the
first on ties), how many objects it holds, and the column (left / center / right third)
of the subject's centre. A standardised logistic regression is fitted per layer and
attribute on 2/3 of the images and scored on the other third (disjoint images), next to
the majority-class baseline of each attribute.

With visual tokens injected at the input of layer k, layers below k hold placeholder
embeddings only (the same for every image), so every probe there scores exactly the
majority baseline; at layer k only the visual-token feature can read the image, the last
prompt token from layer k + 1 on. The plot marks k.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from instructvl.analysis.features import FEATURES, layer_features
from instructvl.analysis.images import SceneImage, scene_images, take
from instructvl.analysis.report import markdown_table, write_outputs
from instructvl.data.formatting import CAPTION_ONLY_PROMPT
from instructvl.data.synthvl.scenes import Obj, Scene
from instructvl.eval.progress import task_progress
from instructvl.plotting import pyplot, save_figure

ATTRIBUTES = ("colour", "shape", "count", "position")
COLUMNS = ("left", "center", "right")
MIN_IMAGES = 30  # a floor: small scales must still leave several classes to fit and test
DEFAULT_IMAGES = 300
TRAIN_FRACTION = 2 / 3
INSTRUCTION = CAPTION_ONLY_PROMPT
CONSTANT_TOLERANCE = 1e-5
"""Features whose spread over the training images is below this fraction of their
magnitude count as constant (batching changes float rounding, not information)."""


def subject(scene: Scene) -> Obj:
    """The scene's largest object (the first one on ties)."""
    return max(scene.objects, key=lambda o: o.size)  # max keeps the first of equals


def attribute_labels(scene: Scene) -> dict[str, str]:
    """The probed attributes of a scene (see the module docstring)."""
    o = subject(scene)
    column = COLUMNS[min(2, o.x * 3 // scene.width)]
    return {"colour": o.colour, "shape": o.kind, "count": str(len(scene.objects)), "position": column}


def probe_accuracy(train_x: np.ndarray, train_y: list, test_x: np.ndarray, test_y: list) -> float:
    """Held-out accuracy of a standardised multinomial logistic regression (L2, C = 1)
    fitted on the training features. Features that do not vary over the training images
    (up to float rounding; e.g. below the injection layer), or a single training class,
    give the majority-class prediction, so such layers score exactly the baseline.

    Runs on one BLAS thread with the newton-cg solver: on these small, nearly separable
    problems that is about 50x faster than lbfgs on shared cores, with the same accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    spread = float(np.ptp(train_x, axis=0).max())
    if len(set(train_y)) < 2 or spread <= CONSTANT_TOLERANCE * (float(np.abs(train_x).max()) + 1e-30):
        return majority_accuracy(train_y, test_y)
    probe = make_pipeline(StandardScaler(), LogisticRegression(solver="newton-cg", max_iter=1000))
    with threadpool_limits(1):
        probe.fit(train_x, train_y)
        return float(np.mean(probe.predict(test_x) == np.asarray(test_y)))


def majority_accuracy(train_y: list, test_y: list) -> float:
    """Test accuracy of always answering the most common training label."""
    top = Counter(train_y).most_common(1)[0][0]
    return float(np.mean(np.asarray(test_y) == top))


def probe_curves(
    features: dict[str, np.ndarray], labels: list[dict[str, str]], n_train: int, on_fit=None
) -> dict[str, dict[str, list[float]]]:
    """Accuracy per feature, attribute and layer: features [n, L + 1, width], the first
    `n_train` rows train, the rest test. `on_fit(1)` is told after each fit."""
    curves: dict[str, dict[str, list[float]]] = {}
    for name, values in features.items():
        curves[name] = {}
        for attribute in ATTRIBUTES:
            y = [row[attribute] for row in labels]
            accs = []
            for layer in range(values.shape[1]):
                x = values[:, layer]
                accs.append(probe_accuracy(x[:n_train], y[:n_train], x[n_train:], y[n_train:]))
                if on_fit is not None:
                    on_fit(1)
            curves[name][attribute] = accs
    return curves


def plot_probes(result: dict, path: Path) -> None:
    """Accuracy vs layer, one panel per feature, a line per attribute, its majority
    baseline dashed, and the injection layer marked."""
    plt = pyplot()
    k = result["inject_layer"]
    fig, axes = plt.subplots(1, len(FEATURES), figsize=(6 * len(FEATURES), 4.2), sharey=True)
    for ax, name in zip(axes, FEATURES):
        for i, attribute in enumerate(ATTRIBUTES):
            colour = f"C{i}"
            curve = result["accuracy"][name][attribute]
            ax.plot(range(len(curve)), curve, marker=".", color=colour, label=attribute)
            ax.axhline(result["majority"][attribute], color=colour, linestyle="--", linewidth=1)
        ax.axvline(k, color="gray", linestyle=":", label=f"visual tokens enter (layer {k})")
        ax.set_title(f"{name} feature")
        ax.set_xlabel(f"input of layer i (i = {result['num_layers']}: output of the last layer)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("held-out probe accuracy (dashed: majority class)")
    axes[-1].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"linear probes, {result['model']} ({result['n_train']} train / {result['n_test']} test images)")
    save_figure(fig, path)


def probe_table(result: dict) -> str:
    """Markdown: per feature and attribute, the majority baseline, the best layer and the
    accuracy at every few layers."""
    n = result["num_layers"] + 1
    shown = sorted(set(range(0, n, max(1, n // 8))) | {n - 1, result["inject_layer"]})
    rows = []
    for name in FEATURES:
        for attribute in ATTRIBUTES:
            curve = result["accuracy"][name][attribute]
            best = int(np.argmax(curve))
            rows.append(
                [
                    name,
                    attribute,
                    f"{result['majority'][attribute]:.2f}",
                    f"{curve[best]:.2f} @ {best}",
                    *(f"{curve[i]:.2f}" for i in shown),
                ]
            )
    header = ["feature", "attribute", "majority", "best @ layer", *(f"L{i}" for i in shown)]
    return markdown_table(header, rows)


def run_probes(model, data_dir: Path, out_dir: Path, *, seed: int, scale: float, progress: bool = False) -> dict:
    """Fits the probes on `round(300 * scale)` images of `data_dir`; writes probes.json,
    probes.md and probes.png under `out_dir` and returns the result (see the module
    docstring)."""
    chosen: list[SceneImage] = take(
        scene_images(data_dir, seed), round(DEFAULT_IMAGES * scale), "probes", minimum=MIN_IMAGES
    )
    n_train = round(len(chosen) * TRAIN_FRACTION)
    labels = [attribute_labels(im.scene) for im in chosen]
    layers = len(model.llm.layers) + 1
    with task_progress(progress) as progress_bars:
        advance = progress_bars.add("probe features", len(chosen), 0)
        feats = layer_features(model, [im.path for im in chosen], INSTRUCTION, on_batch=advance)
        arrays = {name: value.numpy() for name, value in feats.items()}
        advance = progress_bars.add("probe fits", len(FEATURES) * len(ATTRIBUTES) * layers, 0)
        curves = probe_curves(arrays, labels, n_train, on_fit=advance)
    result = {
        "analysis": "probes",
        "model": model.config.name,
        "num_layers": len(model.llm.layers),
        "inject_layer": model.llm.cfg.inject_layer,
        "layer_axis": "index i < num_layers: input of layer i (after injection); num_layers: output of the last layer",
        "instruction": INSTRUCTION,
        "seed": seed,
        "scale": scale,
        "n_train": n_train,
        "n_test": len(chosen) - n_train,
        "classes": {a: dict(Counter(row[a] for row in labels)) for a in ATTRIBUTES},
        "majority": {
            a: majority_accuracy([r[a] for r in labels[:n_train]], [r[a] for r in labels[n_train:]]) for a in ATTRIBUTES
        },
        "accuracy": curves,
    }
    write_outputs(out_dir, "probes", result, probe_table(result), plot_probes)
    return result
