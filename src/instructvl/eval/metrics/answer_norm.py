"""Answer normalisation of the official VQA evaluation (``vqaEval.py``).

Follows GT-Vision-Lab/VQA ``PythonEvaluationTools/vqaEvaluation/vqaEval.py``
(the Python 3 version, also used by LAVIS/InstructBLIP), step by step:

1. ``process_punctuation``: each mark in ``PUNCTUATION`` is deleted if the text
   has it next to a space (or the text has a digit-comma-digit anywhere), else
   replaced by a space; then periods not followed by a digit are deleted
   (keeps ``3.5``). The official call passes ``re.UNICODE`` (= 32) as the
   ``count`` argument of ``re.sub``, so at most 32 periods go; we keep that.
2. ``process_digit_article``: lower-case, split on whitespace, number words
   ``none``..``ten`` to digits, drop ``a``/``an``/``the``, restore contractions
   (``dont`` -> ``don't``), join with single spaces.
"""

from __future__ import annotations

import re

PUNCTUATION = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!")

NUMBER_WORDS = {
    "none": "0",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}

ARTICLES = frozenset({"a", "an", "the"})


def _contraction_table() -> dict[str, str]:
    """The official contraction map.

    The official map lists each contraction under every spelling that lacks
    exactly one of its apostrophes (``couldn't've`` under ``couldnt've`` and
    ``couldn'tve``), with three oddities kept as they are: ``let's`` and
    ``she's`` map to themselves and ``somebody'd`` maps to ``somebodyd``.
    """
    forms = """
    ain't aren't can't could've couldn't couldn't've didn't doesn't don't hadn't hadn't've
    hasn't haven't he'd he'd've he's how'd how'll how's I'd've I'm I've isn't it'd it'd've
    it'll ma'am mightn't mightn't've might've mustn't must've needn't not've o'clock
    oughtn't 'ow's'at shan't she'd've should've shouldn't shouldn't've somebody'd've
    somebody'll somebody's someone'd someone'd've someone'll someone's something'd
    something'd've something'll that's there'd there'd've there're there's they'd they'd've
    they'll they're they've 'twas wasn't we'd've we've weren't what'll what're what's what've
    when's where'd where's where've who'd who'd've who'll who's who've why'll why're why's
    won't would've wouldn't wouldn't've y'all y'all'll y'all'd've you'd you'd've you'll
    you're you've
    """.split()
    table = {}
    for form in forms:
        cuts = [i for i, ch in enumerate(form) if ch == "'"]
        for i in cuts:
            table[form[:i] + form[i + 1 :]] = form
    table.update({"let's": "let's", "she's": "she's", "somebody'd": "somebodyd"})
    return table


CONTRACTIONS = _contraction_table()

_COMMA_BETWEEN_DIGITS = re.compile(r"(\d)(,)(\d)")
_PERIOD_NOT_DECIMAL = re.compile(r"(?!<=\d)(\.)(?!\d)")  # sic: the official (ineffective) lookbehind
_OFFICIAL_PERIOD_LIMIT = int(re.UNICODE)


def process_punctuation(text: str) -> str:
    """Official ``processPunctuation``: delete or space out marks, drop non-decimal periods."""
    out = text
    digit_comma = _COMMA_BETWEEN_DIGITS.search(text) is not None
    for mark in PUNCTUATION:
        if digit_comma or mark + " " in text or " " + mark in text:
            out = out.replace(mark, "")
        else:
            out = out.replace(mark, " ")
    return _PERIOD_NOT_DECIMAL.sub("", out, count=_OFFICIAL_PERIOD_LIMIT)


def process_digit_article(text: str) -> str:
    """Official ``processDigitArticle``: lower-case, digits for number words, no articles, contractions."""
    words = [NUMBER_WORDS.get(w, w) for w in text.lower().split()]
    return " ".join(CONTRACTIONS.get(w, w) for w in words if w not in ARTICLES)


def normalize_answer(text: str) -> str:
    """Full official normalisation of a predicted answer (whitespace, punctuation, digits, articles)."""
    text = text.replace("\n", " ").replace("\t", " ").strip()
    return process_digit_article(process_punctuation(text))
