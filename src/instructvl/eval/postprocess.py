"""Answer post-processing for generated text: named steps, applied in the spec's order.

first_line       the text up to its first line break (models often continue)
first_sentence   the text up to the first ". " (keeps decimals like 3.5)
strip            surrounding whitespace and quotes
lowercase        lower case (for metrics that compare case-sensitively)
rstrip_period    a trailing full stop
answer_prefix    a leading "Answer:" / "A:" / "The answer is"
"""

from __future__ import annotations

import re
from collections.abc import Callable

from instructvl.errors import InstructVLError

_PREFIX = re.compile(r"^\s*(answer\s*:|a\s*:|the answer is\b:?)\s*", re.IGNORECASE)

OPS: dict[str, Callable[[str], str]] = {
    "first_line": lambda t: next((line for line in t.strip().splitlines() if line.strip()), ""),
    "first_sentence": lambda t: re.split(r"(?<=[.!?])\s", t.strip(), maxsplit=1)[0],
    "strip": lambda t: t.strip().strip("\"'`").strip(),
    "lowercase": str.lower,
    "rstrip_period": lambda t: t.rstrip().rstrip("."),
    "answer_prefix": lambda t: _PREFIX.sub("", t, count=1),
}


def check_ops(ops: list[str]) -> None:
    """Raises (ValueError, for spec validation) if a step name is unknown."""
    unknown = [o for o in ops if o not in OPS]
    if unknown:
        raise ValueError(f"unknown post-processing steps {unknown}; known: {sorted(OPS)}")


def postprocess(text: str, ops: list[str]) -> str:
    """`text` after each step of `ops` in order."""
    for op in ops:
        if op not in OPS:
            raise InstructVLError(f"unknown post-processing step {op!r}; known: {sorted(OPS)}")
        text = OPS[op](text)
    return text
