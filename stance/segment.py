"""Raw text -> sentences with character offsets into the original text.

Sentence boundaries come from pysbd. Before segmenting, `repair` fixes one known
encoding artifact: some sources (seed 003) carry `?` where an apostrophe or a
curly quote stood (`America?s`, `?coalition of the willing?`), which makes pysbd
split mid-sentence. The repair replaces one character with one character, so
offsets computed on the repaired text point into the original file unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Span:
    """One sentence: `text` is `repair(source)[start:end]`."""

    start: int
    end: int
    text: str


def repair(text: str) -> str:
    """Replace `?` artifacts by the apostrophe or quote they stood for; same length.

    Rules, in order, for each `?`:
    - between two word characters (`America?s`) -> ’
    - after start/space/bracket and before a word character (`?coalition`) -> “
    - closing a “ opened by this repair in the same paragraph -> ”
    - anything else is a real question mark and stays.
    """
    out = list(text)
    open_quote = False
    for i, ch in enumerate(text):
        if ch == "\n":
            open_quote = False
        if ch != "?":
            continue
        before = text[i - 1] if i > 0 else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if _WORD.match(before) and _WORD.match(after):
            out[i] = "\u2019"
        elif (before.isspace() or before in "([") and _WORD.match(after):
            out[i] = "\u201c"
            open_quote = True
        elif open_quote and not _WORD.match(after):
            out[i] = "\u201d"
            open_quote = False
    return "".join(out)


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[Span]:
    """Split `text` into sentences, never across a line break, with offsets into `text`.

    Leading and trailing whitespace is trimmed from each span; blank lines yield nothing.
    A piece that starts in lower case continues the previous sentence of its line
    (pysbd splits "the EE.UU. from 1997" after the abbreviation) and is merged back.
    """
    if not isinstance(text, str):
        raise TypeError(f"split_sentences expects str, got {type(text).__name__}")
    fixed = repair(text)
    spans: list[Span] = []
    pos = 0
    for line in fixed.split("\n"):
        if line.strip():
            for piece in _segmenter().segment(line):
                raw = line[piece.start : piece.end]
                stripped = raw.strip()
                if not stripped:
                    continue
                start = pos + piece.start + (len(raw) - len(raw.lstrip()))
                end = start + len(stripped)
                if stripped[0].islower() and spans and spans[-1].start >= pos:
                    start = spans.pop().start
                spans.append(Span(start, end, fixed[start:end]))
        pos += len(line) + 1
    return spans
