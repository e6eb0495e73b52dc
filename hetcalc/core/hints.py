"""'Did you mean' for every name lookup: one helper, so every unknown name gets the same kind of hint.

difflib is imported only when a hint is needed (an error path): start-up never pays for it.
"""

from __future__ import annotations

from typing import Any, Iterable


def close_matches(*args, **kwargs):
    """difflib's, imported only when a hint is needed."""
    import difflib

    return difflib.get_close_matches(*args, **kwargs)


def candidates(word: Any, choices: Iterable[str], n: int = 3) -> list[str]:
    """The choices `word` was probably meant to be, best first: those it is a prefix of ('ptflops' ->
    'ptflops-pytorch', 'ptflops-aten') when there are at most `n`, else the close spellings ('resnet-50' ->
    'resnet50')."""
    if not isinstance(word, str) or not word.strip():
        return []
    choices = [c for c in choices if isinstance(c, str)]
    low = word.strip().lower()
    same = [c for c in choices if c.lower() == low]  # only the case differs: that one
    if same:
        return same[:1]
    prefixed = [c for c in choices if c.lower().startswith(low) and c.lower() != low]
    if 0 < len(prefixed) <= n:
        return prefixed
    lowered = {c.lower(): c for c in choices}
    return [lowered[c] for c in close_matches(low, list(lowered), n=1)]


def suggest(word: Any, choices: tuple[str, ...]) -> str | None:
    """The one choice `word` was probably meant to be: a close spelling, or a prefix either way."""
    if not isinstance(word, str) or not word:
        return None
    close = close_matches(word, choices, n=1) or close_matches(word.lower(), choices, n=1)
    if close:
        return close[0]
    low = word.lower()
    prefixed = [c for c in choices if low.startswith(c) or c.startswith(low)]
    return prefixed[0] if len(prefixed) == 1 else None


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """' (did you mean 'resnet50'?)', ' (did you mean 'a' or 'b'?)', or '' when nothing is close."""
    found = candidates(word, choices)
    if not found:
        return ""
    quoted = [f"'{c}'" for c in found]
    words = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f" (did you mean {words}?)"
