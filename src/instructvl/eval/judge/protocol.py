"""The LLaVA-Bench judging protocol: the prompt (context, question, the reference as
Assistant 1 and the model as Assistant 2, then the rating instruction), the first lines
it asks for ("8 6": reference, then model) and the reader of a written reply's first
line."""

from __future__ import annotations

import re

Messages = list[dict[str, str]]

SYSTEM = "You are a helpful and precise assistant for checking the quality of the answer."
INSTRUCTION = (
    "We would like your feedback on the answers of two AI assistants to the user question shown above. The user "
    "asked the question while looking at an image; the image is described for you in a few sentences above.\n"
    "Rate the helpfulness, relevance, accuracy and level of detail of each answer. Each assistant gets one overall "
    "score from 1 to 10, where a higher score means better overall performance.\n"
    "On the first line, write only the two scores, for Assistant 1 and Assistant 2 in that order, separated by a "
    "space.\n"
    "From the next line on, explain your evaluation, avoiding any bias and making sure that the order in which the "
    "answers were shown does not affect your judgement."
)
SCALE = (1.0, 10.0)
_WHOLE_SCORES = range(int(SCALE[0]), int(SCALE[1]) + 1)
SCORE_LINES = {f"{a} {b}": (a, b) for a in _WHOLE_SCORES for b in _WHOLE_SCORES}
"""Every first line of whole scores the instruction asks for, "1 1" .. "10 10", and its
(reference score, model score)."""
_PAIR = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:,\s*|\s+)(\d+(?:\.\d+)?)\s*\.?\s*")


def judge_messages(description: str, question: str, reference: str, answer: str) -> Messages:
    """The chat messages asking for two scores: the reference answer is Assistant 1, the
    model's answer Assistant 2 (as LLaVA-Bench puts GPT-4's answer first)."""
    content = (
        f"[Context]\n{description}\n\n"
        f"[Question]\n{question}\n\n"
        f"[Assistant 1]\n{reference}\n\n[End of Assistant 1]\n\n"
        f"[Assistant 2]\n{answer}\n\n[End of Assistant 2]\n\n"
        f"[System]\n{INSTRUCTION}\n\n"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}]


def parse_scores(reply: str) -> tuple[float, float] | None:
    """(reference score, model score) from the reply's first non-blank line when it holds
    exactly two numbers on the 1-10 scale (separated by a space or a comma); None otherwise."""
    line = next((ln for ln in reply.splitlines() if ln.strip()), "")
    match = _PAIR.fullmatch(line)
    if match is None:
        return None
    pair = float(match.group(1)), float(match.group(2))
    return pair if all(SCALE[0] <= s <= SCALE[1] for s in pair) else None
