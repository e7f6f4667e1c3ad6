"""Pure-Python stand-in for the COCO caption tokeniser (no Java).

pycocoevalcap's ``PTBTokenizer`` runs Stanford CoreNLP 3.4.1's PTBTokenizer with
``-preserveLines -lowerCase`` and then drops the tokens in its ``PUNCTUATIONS``
list. This module reproduces that output for caption-like text:

* a longest-match lexer (like the JFlex one in CoreNLP) over words, numbers
  (``3.50``, ``10,000``, ``-5``), hyphenated words (``3.5-inch``), slash words
  (``yes/no``), acronyms and abbreviations keeping their period (``u.s.``,
  ``p.m.``, ``mr.``, ``b.``, ``no.`` before a number), URLs, e-mails, hashtags;
* clitics split off: ``is n't``, ``ca n't``, ``it 's``, ``we 're``, ``could n't 've``,
  ``can not``, ``gon na``, ``'t is``; possessive ``'`` separated;
* brackets become ``-lrb-``/``-rrb-``/``-lsb-``/``-rsb-``/``-lcb-``/``-rcb-`` and are
  *kept*: pycocoevalcap compares the lower-cased tokens with its upper-case
  ``-LRB-`` entries, so none of them is removed;
* quotes, ``. , ; : ? ! - -- ...`` (and curly/unicode variants) are removed, but
  runs such as ``!!!`` or ``?!`` stay, as they do in CoreNLP.

It is validated token-for-token against the Java tokenizer on the fixtures in
``tests/metrics``; exotic input (rare unicode, CoreNLP's full abbreviation list)
may still differ.
"""

from __future__ import annotations

import re

# Tokens pycocoevalcap removes after tokenising (compared after lower-casing).
REMOVED_TOKENS = frozenset(
    ["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--", "...", ";"]
)

_BRACKETS = {"(": "-LRB-", ")": "-RRB-", "[": "-LSB-", "]": "-RSB-", "{": "-LCB-", "}": "-RCB-"}

_CHAR_MAP = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2014": " -- ",
    "\u2013": " -- ",
    "\u2026": "...",
    "\u00bd": "1/2",
    "\u00bc": "1/4",
    "\u00be": "3/4",
    "\u2153": "1/3",
    "\u2154": "2/3",
    "\u00a0": " ",
}

_ABBREVIATIONS = (
    "mr|mrs|ms|messrs|dr|prof|jr|sr|st|mt|ft|gen|gov|sen|rep|col|capt|lt|sgt|maj|adm|rev|"
    "pres|hon|ave|blvd|rd|inc|co|corp|ltd|bros|vs|etc|jan|feb|mar|apr|jun|jul|aug|sep|sept|"
    "oct|nov|dec|ph\\.d|approx|dept|est|fig|vol"
)

_LETTER = r"[^\W\d_]"
_WORD = rf"\w+(?:\.{_LETTER}\w*)*"

# Candidate token patterns; at each position the longest match wins, ties go to
# the earlier entry (JFlex semantics).
_PATTERNS = [
    re.compile(p)
    for p in (
        r"(?:https?|ftp)://\S+|www\.\S+",
        r"[\w.+-]+@\w+(?:\.\w+)+",
        r"</?[A-Za-z][^<>\s]*>",
        r"[:;]-?[()]",
        rf"#{_LETTER}\w*",
        rf"{_LETTER}(?:\.{_LETTER})*\.",
        rf"(?i:{_ABBREVIATIONS})\.|(?i:no)\.(?=\s*\d)",
        rf"{_WORD}(?:'\w+)*",
        rf"{_WORD}(?:/{_WORD})+",
        r"\w+(?:\.\w+)*(?:-\w+(?:\.\w+)*)+",
        r"[-+]?(?:\d+(?:[.,:/]\d+)*|\.\d+)",
        r"(?i:'(?:em|cause|tis|twas|n'?|\d\ds|s|m|d|ll|re|ve))(?!\w)",
        r"\.\.\.+|--+|[?!]+|``|''",
        r"\S",
    )
]

_SPLIT_WORDS = {
    "cannot": 3,
    "gonna": 3,
    "wanna": 3,
    "gotta": 3,
    "gimme": 3,
    "lemme": 3,
    "'tis": 2,
    "'twas": 2,
}
# Clitics peeled off the end of a word: all lower, all upper, or capitalised.
_CLITIC = re.compile(r"(?<=\w)(n't|N'T|'(?:s|m|d|ll|re|ve|n|S|M|D|LL|RE|VE|N|Ll|Re|Ve))$")
_KEEP_WHOLE = re.compile(rf"(?!y'){_LETTER}'{_LETTER}{{2,}}", re.IGNORECASE)  # o'clock, d'you


def _lex(text: str) -> list[str]:
    """Split one line into raw tokens by longest match."""
    tokens: list[str] = []
    pos, end = 0, len(text)
    while pos < end:
        if text[pos].isspace():
            pos += 1
            continue
        best = max((p.match(text, pos) for p in _PATTERNS), key=lambda m: m.end() if m else -1)
        tokens.append(best.group())
        pos = best.end()
    return tokens


def _split_word(token: str) -> list[str]:
    """Split clitics and fused words (``don't`` -> ``do n't``, ``cannot`` -> ``can not``)."""
    low = token.lower()
    if low in _SPLIT_WORDS:
        cut = _SPLIT_WORDS[low]
        return [token[:cut], token[cut:]]
    if "'" not in token or (token.startswith("'") and len(token) > 1):
        return [token]
    rnr = re.fullmatch(r"(\w+)('n')(\w+)", token, re.IGNORECASE)
    if rnr:
        return list(rnr.groups())
    tail: list[str] = []
    while (m := _CLITIC.search(token)) is not None:
        tail.insert(0, m.group())
        token = token[: m.start()]
    if low.startswith("y'") and len(token) > 2:
        head = ["y'", token[2:]]
    elif "'" in token and not _KEEP_WHOLE.fullmatch(token):
        head = [t for t in re.split(r"(')", token) if t]
    else:
        head = [token]
    return head + tail


def _normalise(token: str) -> str:
    """Map brackets, quotes, dashes and entities to CoreNLP's output forms."""
    if token in _BRACKETS:
        return _BRACKETS[token]
    if re.fullmatch(r"[:;]-?[()]", token):
        return token[:-1] + _BRACKETS[token[-1]]
    if token == '"':
        return "''"
    if re.fullmatch(r"\.\.\.+", token):
        return "..."
    if re.fullmatch(r"--+", token):
        return "--"
    return token


def ptb_tokenize(caption: str) -> list[str]:
    """Tokenise one caption as pycocoevalcap does and return the kept, lower-cased tokens."""
    text = caption.replace("\n", " ").replace("&amp;", "&")
    for src, dst in _CHAR_MAP.items():
        text = text.replace(src, dst)
    out: list[str] = []
    for raw in _lex(text):
        for piece in _split_word(raw):
            token = _normalise(piece).lower()
            if token not in REMOVED_TOKENS:
                out.append(token)
    return out


def ptb_tokenize_caption(caption: str) -> str:
    """The tokenised caption as one space-joined string (pycocoevalcap's format)."""
    return " ".join(ptb_tokenize(caption))
