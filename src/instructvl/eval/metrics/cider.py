"""CIDEr-D, computed exactly as pycocoevalcap's ``Cider`` scorer (without Java).

Per image, each caption becomes TF-IDF vectors over its 1..n-grams, with
document frequencies counted over the *reference sets of the evaluated images*
(an n-gram counts once per image) and ``idf = log(#images) - log(max(1, df))``.
For each reference the score averages, over n-gram orders, the clipped cosine
``sum_g min(h_g, r_g) * r_g / (|h| |r|)`` times the Gaussian length penalty
``exp(-(l_h - l_r)^2 / (2 sigma^2))``; the image score is the mean over its
references times 10 and the corpus score the mean over images.

As in pycocoevalcap, the "length" in the penalty is the number of bigram
occurrences (``max(words - 1, 0)``): its ``counts2vec`` tests the 0-based order
index ``n == 1``. We keep that quirk so the numbers match published CIDEr-D.
"""

from __future__ import annotations

import math
from collections import Counter

from instructvl.eval.metrics.base import (
    MetricResult,
    check_pairs,
    check_reference_list,
    check_text,
    mean,
)
from instructvl.eval.metrics.ptb_tokenize import ptb_tokenize

NGram = tuple[str, ...]


def _ngrams(words: list[str], n: int) -> Counter[NGram]:
    """Counts of every 1..n-gram of ``words``."""
    counts: Counter[NGram] = Counter()
    for k in range(1, n + 1):
        for i in range(len(words) - k + 1):
            counts[tuple(words[i : i + k])] += 1
    return counts


class _TfIdf:
    """One caption's TF-IDF vectors per n-gram order, their norms and its length."""

    def __init__(self, counts: Counter[NGram], n: int, idf: dict[NGram, float], default_idf: float):
        self.vec: list[dict[NGram, float]] = [{} for _ in range(n)]
        self.length = 0
        for gram, tf in counts.items():
            order = len(gram) - 1
            self.vec[order][gram] = tf * idf.get(gram, default_idf)
            if order == 1:
                self.length += tf
        self.norm = [math.sqrt(sum(w * w for w in v.values())) for v in self.vec]


def _similarity(hyp: _TfIdf, ref: _TfIdf, sigma: float) -> list[float]:
    """Clipped cosine per n-gram order with the CIDEr-D Gaussian length penalty."""
    penalty = math.exp(-((hyp.length - ref.length) ** 2) / (2 * sigma**2))
    values = []
    for order, h_vec in enumerate(hyp.vec):
        r_vec = ref.vec[order]
        val = sum(min(w, r_vec.get(g, 0.0)) * r_vec.get(g, 0.0) for g, w in h_vec.items())
        if hyp.norm[order] != 0 and ref.norm[order] != 0:
            val /= hyp.norm[order] * ref.norm[order]
        values.append(val * penalty)
    return values


def cider_d(
    predictions: list[str],
    references: list[list[str]],
    *,
    n: int = 4,
    sigma: float = 6.0,
    tokenize: bool = True,
) -> MetricResult:
    """CIDEr-D of one caption per image against that image's reference captions.

    ``tokenize=True`` applies the COCO PTB tokenisation (:func:`ptb_tokenize`);
    with ``False`` captions are split on whitespace as given (for pre-tokenised
    text, as pycocoevalcap's ``Cider.compute_score`` expects). Scores are on
    pycocoevalcap's scale (x10 built in; papers often print them x100).
    """
    check_pairs("cider", predictions, references)
    split = ptb_tokenize if tokenize else str.split
    hyps = [_ngrams(split(check_text("cider", i, "prediction", p)), n) for i, p in enumerate(predictions)]
    refs = [[_ngrams(split(r), n) for r in check_reference_list("cider", i, rs)] for i, rs in enumerate(references)]

    doc_freq: Counter[NGram] = Counter()
    for image_refs in refs:
        doc_freq.update({gram for counts in image_refs for gram in counts})
    log_images = math.log(float(len(refs)))
    idf = {gram: log_images - math.log(max(1.0, df)) for gram, df in doc_freq.items()}

    per_image = []
    for hyp_counts, image_refs in zip(hyps, refs):
        hyp = _TfIdf(hyp_counts, n, idf, log_images)
        totals = [0.0] * n
        for ref_counts in image_refs:
            for order, v in enumerate(_similarity(hyp, _TfIdf(ref_counts, n, idf, log_images), sigma)):
                totals[order] += v
        per_image.append(float(sum(totals) / n / len(image_refs) * 10.0))
    return MetricResult("cider", mean(per_image), per_image)
