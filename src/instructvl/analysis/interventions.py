"""Causal interventions: where in the language model do the text positions read the image?

Closed visual questions about simple SynthVL scenes never trained on (`images.py`): one
per image, in turn about the colour of "the <shape>", the shape of "the <colour> object",
or how many <shapes> there are (`instructvl.data.synthvl.qa.attribute_question`, so only
unambiguous questions), phrased with the `vqa` instruction templates and answered by
ranking the whole vocabulary of the question type (8 colours, 6 shapes, 0-4) with
`score_candidates` (mean log-probability per token). Scored by accuracy and by the mean
probability of the right answer (softmax over the candidates), which moves smoothly and
so shows effects that a few dozen questions cannot show in accuracy.

The intervention (`knockout.py`) cuts the attention of every text position (prompt and
candidate answer) to the visual positions in a window of `window` consecutive decoder
layers [l, l + window), for window starts l = 0, stride, 2 * stride, ... The drop against
the unmodified model, by l, shows which layers carry the image into the text. Reference
points: the unmodified model, the model with the image removed from the prompt (the
text-only baseline), the cut in every layer, and chance. With visual tokens injected at
layer k, windows below k only cut the image placeholders, so any drop there is not about
the image.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from instructvl.analysis.images import SceneImage, scene_images, take
from instructvl.analysis.knockout import cut_visual_attention
from instructvl.analysis.report import markdown_table, write_outputs
from instructvl.data.formatting import format_sample
from instructvl.data.schema import Sample, Turn
from instructvl.data.synthvl.qa import attribute_question
from instructvl.data.synthvl.scenes import HELD_IN_COLOURS, SHAPES, Scene, count, unique_objects
from instructvl.errors import InstructVLError
from instructvl.eval.infer import strip_images
from instructvl.eval.progress import task_progress
from instructvl.eval.scoring import normalised, softmax_of
from instructvl.plotting import pyplot, save_figure

CANDIDATES = {"colour": HELD_IN_COLOURS, "shape": SHAPES, "count": ("0", "1", "2", "3", "4")}
QUESTION_TYPES = tuple(CANDIDATES)
NORMALISATION = "mean"
DEFAULT_QUESTIONS = 24
DEFAULT_WINDOW = 3


@dataclass(frozen=True)
class Condition:
    """One way of running the model: the layers whose text-to-image attention is cut,
    and whether the prompt keeps its image."""

    name: str
    layers: tuple[int, ...] = ()
    image: bool = True


def answerable(scene: Scene, kind: str) -> bool:
    """Whether `attribute_question` can ask a `kind` question about the scene unambiguously."""
    if kind == "colour":
        return bool(unique_objects(scene))
    if kind == "shape":
        return any(count(scene, colour=o.colour) == 1 for o in scene.objects)
    return True


def scene_questions(images: list[SceneImage], seed: int) -> list[Sample]:
    """One formatted question per image (types in turn, skipping a type the scene cannot
    answer); `candidates` is the type's vocabulary, `answer` the right one."""
    rng = random.Random(seed)
    out = []
    for i, image in enumerate(images):
        turn = [QUESTION_TYPES[(i + j) % len(QUESTION_TYPES)] for j in range(len(QUESTION_TYPES))]
        kind = next(t for t in turn if answerable(image.scene, t))
        question, answer, program = attribute_question(rng, image.scene, types=(kind,))
        raw = Sample(
            f"knockout/{i}",
            "vqa",
            [image.path],
            [Turn("user", question), Turn("assistant", answer)],
            candidates=list(CANDIDATES[kind]),
            answer=answer,
            metadata={"task": "vqa", "type": kind, "program": program},
        )
        out.append(format_sample(raw, "instruction", seed, with_target=False))
    return out


def references(num_layers: int) -> list[Condition]:
    """The reference conditions: unmodified, image removed, attention cut in every layer."""
    return [
        Condition("unmodified"),
        Condition("no image", image=False),
        Condition("all layers cut", tuple(range(num_layers))),
    ]


def windows(num_layers: int, window: int, stride: int) -> list[Condition]:
    """Cuts in layers [l, l + window) for l = 0, stride, ... (the last ones clipped to the model)."""
    return [
        Condition(f"layers {s}-{min(s + window, num_layers) - 1}", tuple(range(s, min(s + window, num_layers))))
        for s in range(0, num_layers, stride)
    ]


def candidate_scores(model, collator, sample: Sample, condition: Condition) -> list[float]:
    """The sample's candidates' scores (mean log-probability per token) under `condition`."""
    prompt = sample if condition.image else strip_images(sample)
    batch = collator.prompt_batch([prompt])
    with cut_visual_attention(model, condition.layers, batch.image_mask):
        scores = model.score_candidates(batch, [sample.candidates])[0]
    return normalised(scores, NORMALISATION)


@dataclass(frozen=True)
class Outcome:
    """One question under one condition: its type, whether the top candidate is right,
    and the right candidate's probability (softmax over the candidates' scores)."""

    kind: str
    correct: bool
    p_correct: float

    @classmethod
    def of(cls, sample: Sample, values: list[float]) -> Outcome:
        """The outcome of `sample` given its candidates' scores (first on ties)."""
        truth = sample.candidates.index(sample.answer)
        best = max(range(len(values)), key=lambda i: (values[i], -i))
        return cls(sample.metadata["type"], best == truth, softmax_of(values, truth))


def summary(outcomes: list[Outcome]) -> dict:
    """Accuracy and mean P(correct), overall and per question type."""

    def means(rows: list[Outcome]) -> dict:
        return {
            "accuracy": sum(o.correct for o in rows) / len(rows),
            "p_correct": sum(o.p_correct for o in rows) / len(rows),
        }

    by_type = {
        t: means([o for o in outcomes if o.kind == t]) for t in QUESTION_TYPES if any(o.kind == t for o in outcomes)
    }
    return {**means(outcomes), "by_type": by_type}


METRICS = {"accuracy": "accuracy", "p_correct": "mean P(correct answer)"}


def plot_interventions(result: dict, path: Path) -> None:
    """Accuracy and mean P(correct) by window start (one panel each), with the reference
    conditions and chance as horizontal lines and the injection layer marked."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(METRICS), figsize=(13, 4.2))
    starts = [w["layers"][0] for w in result["windows"]]
    styles = {
        "unmodified": ("C2", "-"),
        "no image": ("C3", "--"),
        "all layers cut": ("C4", "-."),
        "chance": ("gray", ":"),
    }
    for ax, (metric, label) in zip(axes, METRICS.items()):
        ax.plot(
            starts,
            [w[metric] for w in result["windows"]],
            "o-",
            color="C0",
            label=f"text-to-image attention cut in layers [l, l+{result['window']})",
        )
        refs = {**{name: r[metric] for name, r in result["reference"].items()}, "chance": result["chance"]}
        for name, value in refs.items():
            colour, style = styles[name]
            ax.axhline(value, color=colour, linestyle=style, linewidth=1.2, label=f"{name} ({value:.2f})")
        ax.axvline(
            result["inject_layer"],
            color="gray",
            linestyle=":",
            linewidth=1,
            label=f"visual tokens enter (layer {result['inject_layer']})",
        )
        ax.set_xlabel("first layer l of the cut window")
        ax.set_ylabel(f"{label} on closed visual questions")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(f"attention knockout, {result['model']} ({result['n_questions']} questions)")
    save_figure(fig, path)


def intervention_table(result: dict) -> str:
    """Markdown: accuracy, its drop, mean P(correct) and per-type accuracy per condition."""
    base = result["reference"]["unmodified"]["accuracy"]
    entries = list(result["reference"].items()) + [(w["name"], w) for w in result["windows"]]
    rows = [
        [
            name,
            f"{r['accuracy']:.3f}",
            f"{base - r['accuracy']:+.3f}",
            f"{r['p_correct']:.3f}",
            *(f"{r['by_type'][t]['accuracy']:.3f}" if t in r["by_type"] else "-" for t in QUESTION_TYPES),
        ]
        for name, r in entries
    ]
    rows.append(["chance", f"{result['chance']:.3f}", "", f"{result['chance']:.3f}", *("" for _ in QUESTION_TYPES)])
    return markdown_table(["condition", "accuracy", "drop", "P(correct)", *(f"{t} acc." for t in QUESTION_TYPES)], rows)


def run_interventions(
    model,
    data_dir: Path,
    out_dir: Path,
    *,
    seed: int,
    scale: float,
    progress: bool = False,
    window: int = DEFAULT_WINDOW,
    stride: int | None = None,
) -> dict:
    """Runs `round(DEFAULT_QUESTIONS * scale)` questions under every condition (windows of
    `window` layers every `stride`, default `window`); writes interventions.json, .md and
    .png under `out_dir` and returns the result (see the module docstring)."""
    num_layers = len(model.llm.layers)
    if not 1 <= window <= num_layers:
        raise InstructVLError(f"window must be between 1 and {num_layers} layers, got {window}")
    stride = stride or window
    questions = scene_questions(
        take(scene_images(data_dir, seed), round(DEFAULT_QUESTIONS * scale), "interventions", minimum=3), seed
    )
    refs, cuts = references(num_layers), windows(num_layers, window, stride)
    collator = model.collator()
    outcomes: dict[str, list[Outcome]] = {c.name: [] for c in refs + cuts}
    with task_progress(progress) as progress_bars:
        advance = progress_bars.add("questions", len(questions), 0)
        for sample in questions:
            for condition in refs + cuts:
                outcomes[condition.name].append(
                    Outcome.of(sample, candidate_scores(model, collator, sample, condition))
                )
            advance(1)
    base = summary(outcomes["unmodified"])
    cut_rows = []
    for c in cuts:
        row = summary(outcomes[c.name])
        cut_rows.append(
            {
                "name": c.name,
                "layers": [c.layers[0], c.layers[-1]],
                **row,
                "drop": base["accuracy"] - row["accuracy"],
                "p_drop": base["p_correct"] - row["p_correct"],
            }
        )
    result = {
        "analysis": "interventions",
        "model": model.config.name,
        "num_layers": num_layers,
        "inject_layer": model.llm.cfg.inject_layer,
        "window": window,
        "stride": stride,
        "seed": seed,
        "scale": scale,
        "normalisation": NORMALISATION,
        "n_questions": len(questions),
        "types": dict(Counter(s.metadata["type"] for s in questions)),
        "chance": sum(1 / len(s.candidates) for s in questions) / len(questions),
        "reference": {c.name: summary(outcomes[c.name]) for c in refs},
        "windows": cut_rows,
    }
    write_outputs(out_dir, "interventions", result, intervention_table(result), plot_interventions)
    return result
