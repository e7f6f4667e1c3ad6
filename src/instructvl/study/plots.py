"""The study's PNGs (matplotlib, Agg backend): bars per cell with the standard deviation
over seeds as error bars (groups, task types, tasks), scores against a config key (series),
and the analyses' curves per cell with a band of one standard deviation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructvl.plotting import pyplot, save_figure


def _mean_std(summary: dict | None, factor: float) -> tuple[float, float]:
    if summary is None:
        return float("nan"), 0.0
    return factor * summary["mean"], factor * (summary["std"] or 0.0)


def bars(categories: list[str], cells: dict[str, dict[str, Any]], key: str, path: Path, title: str) -> Path:
    """Grouped bars: one group per category, one bar per cell (x100, std error bars)."""
    plt = pyplot()
    width = 0.8 / max(1, len(cells))
    fig, ax = plt.subplots(figsize=(max(7.0, 0.35 * len(categories) * len(cells) + 2), 4.8))
    for i, (name, cell) in enumerate(cells.items()):
        values = [_mean_std(cell[key].get(c), 100) for c in categories]
        xs = [j + (i - (len(cells) - 1) / 2) * width for j in range(len(categories))]
        ax.bar(xs, [v[0] for v in values], width, yerr=[v[1] for v in values], capsize=2, label=name)
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels(
        categories, rotation=30 if len(categories) > 4 else 0, ha="right" if len(categories) > 4 else "center"
    )
    ax.set_ylabel("score x100 (mean, std over seeds)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def series_plot(series: dict[str, Any], groups: list[str], path: Path) -> Path:
    """The group averages (x100, std error bars) against the series' config key."""
    plt = pyplot()
    points = series["points"]
    numeric = all(isinstance(p["x"], (int, float)) for p in points)
    xs = [p["x"] if numeric else i for i, p in enumerate(points)]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for group in groups:
        values = [_mean_std(p["groups"].get(group), 100) for p in points]
        ax.errorbar(
            xs, [v[0] for v in values], yerr=[v[1] for v in values], marker="o", capsize=3, label=f"{group} average"
        )
    if not numeric:
        ax.set_xticks(xs)
        ax.set_xticklabels([str(p["x"]) for p in points])
    ax.set_xlabel(series["x_key"])
    ax.set_ylabel("score x100 (mean, std over seeds)")
    ax.set_title(series["name"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def curves_plot(name: str, per_cell: dict[str, dict[str, Any]], path: Path) -> Path:
    """One panel per curve of analysis `name`, one line per cell (mean, +-1 std band)."""
    plt = pyplot()
    curve_names = list(dict.fromkeys(c for a in per_cell.values() for c in a["curves"]))
    cols = min(4, len(curve_names))
    rows = -(-len(curve_names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    for ax, curve in zip(axes.flat, curve_names):
        for cell, analysis in per_cell.items():
            if curve not in analysis["curves"]:
                continue
            c = analysis["curves"][curve]
            line = ax.plot(c["x"], c["mean"], marker=".", label=cell)[0]
            std = [s or 0.0 for s in c["std"]]
            ax.fill_between(
                c["x"],
                [m - s for m, s in zip(c["mean"], std)],
                [m + s for m, s in zip(c["mean"], std)],
                color=line.get_color(),
                alpha=0.2,
            )
        ax.set_title(curve, fontsize=9)
        ax.set_xlabel(next(iter(per_cell.values()))["x_label"], fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(curve_names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"{name} (mean over seeds, band: one standard deviation)")
    return save_figure(fig, path)
