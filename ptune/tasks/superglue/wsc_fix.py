"""WSC span-text corrections: what distinguishes the hub's `wsc.fixed` config from `wsc`, applied to local files.

The SuperGLUE WSC files give span texts that are sometimes not substrings of the text ("The demonstrators" where
the text says "the demonstrators", "The traffic light." with a stop the text does not have, a newline inside a
span). The hub's wsc.fixed corrects a span that is not a substring: the case of its first letter follows the word
at its index, trailing stops are dropped, newlines become spaces. Two spans whose words are not contiguous in
the text ("Kamenev and Zinoviev", "Kamenev, Zinoviev, and Stalin") cannot be corrected and stay as they are.
(The hub's corrector also special-cases a "theyscold" typo that none of the SuperGLUE files here contain.)
Indices and the text never change.
"""
from __future__ import annotations

UNFIXABLE = ("Kamenev and Zinoviev", "Kamenev, Zinoviev, and Stalin")


def fix_span_text(text: str, span_text: str, index: int) -> str:
    if span_text in text or span_text in UNFIXABLE:
        return span_text
    words = text.split()
    first_word = words[index] if 0 <= index < len(words) else span_text
    fixed = (span_text[0].lower() if first_word[:1].islower() else span_text[0].upper()) + span_text[1:]
    return fixed.rstrip(".").replace("\n", " ")


def fix_span_texts(text: str, target: dict) -> dict:
    """target {span1_text, span1_index, span2_text, span2_index} with both span texts corrected."""
    for span in ("span1", "span2"):
        target[f"{span}_text"] = fix_span_text(text, target[f"{span}_text"], target[f"{span}_index"])
    return target
