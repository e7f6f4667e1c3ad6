"""What a task scores against: the candidates shown, the ground-truth candidate, and the
reference answers each metric expects (see `instructvl.eval.metrics`)."""

from __future__ import annotations

from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError
from instructvl.eval.spec import TaskSpec


def candidates_for(spec: TaskSpec, sample: Sample) -> list[str]:
    """The candidate answers ranked for `sample`: the spec's fixed list, or the sample's."""
    if isinstance(spec.candidates, list):
        return list(spec.candidates)
    if not sample.candidates:
        raise InstructVLError(f"task {spec.name}: sample {sample.id} has no candidates to rank")
    return list(sample.candidates)


def gold_index(spec: TaskSpec, sample: Sample) -> int:
    """The index of the correct candidate: an integer `answer` (public readers), else
    `metadata["answer_index"]`, else the position of the answer text among the candidates
    (case-insensitive)."""
    cands = candidates_for(spec, sample)
    if isinstance(sample.answer, int) and not isinstance(sample.answer, bool):
        index = sample.answer
    elif isinstance(sample.metadata.get("answer_index"), int):
        index = sample.metadata["answer_index"]
    elif isinstance(sample.answer, str):
        lowered = [c.strip().lower() for c in cands]
        if sample.answer.strip().lower() not in lowered:
            raise InstructVLError(
                f"task {spec.name}: sample {sample.id}: answer {sample.answer!r} is not one of its candidates {cands}"
            )
        index = lowered.index(sample.answer.strip().lower())
    else:
        raise InstructVLError(f"task {spec.name}: sample {sample.id} has no answer to score against")
    if not 0 <= index < len(cands):
        raise InstructVLError(
            f"task {spec.name}: sample {sample.id}: answer index {index} is outside its {len(cands)} candidates"
        )
    return index


def positive_index(spec: TaskSpec, candidates: list[str]) -> int:
    """For AUC tasks: the index of the positive candidate (whose probability is the score)."""
    lowered = [c.strip().lower() for c in candidates]
    if spec.positive is None or spec.positive.lower() not in lowered:
        raise InstructVLError(f"task {spec.name}: the positive candidate {spec.positive!r} is not among {candidates}")
    return lowered.index(spec.positive.lower())


def rank_reference(spec: TaskSpec, sample: Sample):
    """The reference entry of a rank task: the gold index (top1, mrr) or the 0/1 label (auc)."""
    gold = gold_index(spec, sample)
    if spec.metric == "auc":
        return int(gold == positive_index(spec, candidates_for(spec, sample)))
    return gold


def generate_reference(spec: TaskSpec, sample: Sample):
    """The reference entry of a generate task: the reference list (cider, VQA and iVQA
    accuracy), or the accepted answers (top1: references, else the answer)."""
    refs = [r for r in (sample.references or []) if isinstance(r, str)]
    if spec.metric == "top1":
        accepted = refs or ([str(sample.answer)] if sample.answer is not None else [])
        if not accepted:
            raise InstructVLError(f"task {spec.name}: sample {sample.id} has neither references nor an answer")
        return accepted
    if not refs:
        raise InstructVLError(f"task {spec.name}: sample {sample.id} has no reference answers (metric {spec.metric})")
    return refs


def reference_for(spec: TaskSpec, sample: Sample):
    """The metric's reference entry for one sample."""
    return rank_reference(spec, sample) if spec.output == "rank" else generate_reference(spec, sample)


def gold_text(spec: TaskSpec, sample: Sample) -> str | None:
    """The gold answer as text, for the teacher-forced companion score: the correct
    candidate (rank tasks), else the answer, else the most frequent reference (the first
    on ties); None when the sample has none."""
    if spec.output == "rank":
        return candidates_for(spec, sample)[gold_index(spec, sample)]
    if isinstance(sample.answer, str) and sample.answer.strip():
        return sample.answer
    refs = [r for r in (sample.references or []) if isinstance(r, str) and r.strip()]
    return max(refs, key=refs.count) if refs else None
