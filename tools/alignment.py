"""Paragraph alignment of two versions of a text: identical paragraphs paired (in order, then moved), reworded ones matched
by similarity (rapidfuzz), the rest added or removed; and a word diff of a changed paragraph (difflib)."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from tools.paragraphs import Paragraph

MIN_SIMILARITY = 0.6  # below it a reworded paragraph counts as one removed and one added
MAX_FUZZY_PAIRS = 4_000_000  # past this many unmatched pairs, reworded paragraphs are looked for only where they stood


class Change(NamedTuple):
    """One difference: `added` (b only), `removed` (a only) or `changed` (a reworded into b, with its similarity 0-1)."""

    kind: str
    a: Paragraph | None
    b: Paragraph | None
    similarity: float = 0.0


class Alignment(NamedTuple):
    changes: list[Change]  # in reading order of b, each removal after what preceded it in a
    unchanged: int  # paragraphs the same in both (wrapping, hyphenation, page breaks and spacing aside)
    moved: int  # of those, how many stand in another order


def align(a: Sequence[Paragraph], b: Sequence[Paragraph], min_similarity: float = MIN_SIMILARITY) -> Alignment:
    """Pair the paragraphs of `a` and `b`; deterministic for the same input."""
    a_keys, b_keys = [p.key for p in a], [p.key for p in b]
    pairs: dict[int, int] = {}  # index in a -> index in b
    matcher = difflib.SequenceMatcher(None, a_keys, b_keys, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            pairs[block.a + k] = block.b + k
    in_order = len(pairs)
    # the same paragraph elsewhere: moved, not added and removed
    free_b: dict[str, list[int]] = defaultdict(list)
    taken_b = set(pairs.values())
    for j, key in enumerate(b_keys):
        if j not in taken_b:
            free_b[key].append(j)
    for i, key in enumerate(a_keys):
        if i not in pairs and free_b.get(key):
            pairs[i] = free_b[key].pop(0)
    moved = len(pairs) - in_order
    unchanged = len(pairs)
    similar = _similar_pairs(a_keys, b_keys, pairs, matcher, min_similarity)
    changes = [Change("changed", a[i], b[j], score) for i, (j, score) in similar.items()]
    pairs.update({i: j for i, (j, _) in similar.items()})
    matched_b = set(pairs.values())
    changes += [Change("added", None, b[j]) for j in range(len(b)) if j not in matched_b]
    changes += [Change("removed", a[i], None) for i in range(len(a)) if i not in pairs]
    b_index = {id(p): j for j, p in enumerate(b)}
    a_index = {id(p): i for i, p in enumerate(a)}
    before: list[int] = []  # before[i]: the furthest b paragraph paired with a paragraph of a before i
    furthest = -1
    for i in range(len(a)):
        before.append(furthest)
        furthest = max(furthest, pairs.get(i, -1))

    def place(change: Change) -> tuple[int, int, int]:
        if change.b is not None:
            return b_index[id(change.b)], 1, 0
        i = a_index[id(change.a)]
        return before[i], 2, i

    return Alignment(sorted(changes, key=place), unchanged, moved)


def _similar_pairs(
    a_keys: list[str], b_keys: list[str], pairs: dict[int, int], matcher: difflib.SequenceMatcher, min_similarity: float
) -> dict[int, tuple[int, float]]:
    """Unpaired paragraphs of a matched to the most similar unpaired ones of b, best pairs first (index order breaks ties)."""
    left = [i for i in range(len(a_keys)) if i not in pairs]
    taken = set(pairs.values())
    right = [j for j in range(len(b_keys)) if j not in taken]
    if not left or not right:
        return {}
    if len(left) * len(right) <= MAX_FUZZY_PAIRS:
        regions = [(left, right)]
    else:  # a huge section: only where the texts differ in place
        regions = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "replace":
                regions.append(([i for i in range(i1, i2) if i not in pairs], [j for j in range(j1, j2) if j not in taken]))
    from rapidfuzz import fuzz, process

    candidates: list[tuple[float, int, int]] = []
    cutoff = min_similarity * 100
    for rows, cols in regions:
        if not rows or not cols:
            continue
        scores = process.cdist(
            [a_keys[i] for i in rows], [b_keys[j] for j in cols], scorer=fuzz.ratio, score_cutoff=cutoff, workers=1
        )
        for r, c in zip(*scores.nonzero(), strict=True):
            candidates.append((-float(scores[r, c]), rows[r], cols[c]))
    out: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for negative, i, j in sorted(candidates):
        if i not in out and j not in used:
            out[i] = (j, round(-negative / 100, 3))
            used.add(j)
    return out


class Edit(NamedTuple):
    op: str  # "=" kept, "-" removed, "+" added
    text: str


def word_diff(old: str, new: str) -> list[Edit]:
    """The words of `old` and `new` as kept, removed and added runs (difflib on words; spacing ignored)."""
    a, b = old.split(), new.split()
    out: list[Edit] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(Edit("=", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(Edit("-", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(Edit("+", " ".join(b[j1:j2])))
    return out


def marked(edits: Sequence[Edit], context_words: int = 6, limit: int = 600) -> str:
    """'... sales [-rose 5%-]{+fell 2%+} in ...': the edits with a few words of context, cut at `limit` characters."""
    parts: list[str] = []
    for k, edit in enumerate(edits):
        if edit.op == "-":
            parts.append(f"[-{edit.text}-]")
        elif edit.op == "+":
            parts.append(f"{{+{edit.text}+}}")
        else:
            parts.append(_context(edit.text.split(), k == 0, k + 1 == len(edits), context_words))
    text = " ".join(p for p in parts if p)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "\u2026"
    return text


def _context(words: list[str], first: bool, last: bool, n: int) -> str:
    """Kept words around edits: the last n before the first edit, the first n after the last, both ends between two."""
    if first and last:
        return ""
    if first:
        return ("... " if len(words) > n else "") + " ".join(words[-n:])
    if last:
        return " ".join(words[:n]) + (" ..." if len(words) > n else "")
    if len(words) <= 2 * n + 1:
        return " ".join(words)
    return f"{' '.join(words[:n])} ... {' '.join(words[-n:])}"
