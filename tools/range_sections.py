"""Which sections a range of lines lies in: the one holding most of it, and every one it spans."""

from __future__ import annotations

from collections.abc import Sequence

from corpus.models import Section
from tools.outline import section_label

MAX_SPANNED = 6  # sections named in "spans ..."; more are counted


def section_path(section: Section, sections: Sequence[Section]) -> str:
    """'Item 8 > Note 12 Leases': the section's ancestors' keys, then its label."""
    by_id = {s.id: s for s in sections}
    trail = [section]
    while trail[-1].parent_id is not None and trail[-1].parent_id in by_id:
        trail.append(by_id[trail[-1].parent_id])
    return " > ".join([s.key for s in reversed(trail[1:])] + [section_label(section)])


def range_location(sections: Sequence[Section], start: int, end: int) -> str:
    """' (in Item 8 > Balance Sheet (...))', or ' (mostly in ...; spans Note 1, Note 2)' for a range crossing sections;
    '' outside every section. Each line counts to the deepest section holding it."""
    own = _own_lines(sections, start, end)
    held = [s for s in sorted(sections, key=lambda s: (s.start_line, s.depth)) if own[s.id] > 0]
    if not held:
        return ""
    most = max(held, key=lambda s: (own[s.id], s.depth))
    # an Item's heading lines above its statement need no mention: the statement's path names the Item
    parents = {s.parent_id for s in held}
    held = [s for s in held if s.id not in parents or s is most]
    if len(held) == 1:
        return f" (in {section_path(most, sections)})"
    named = ", ".join(s.key for s in held[:MAX_SPANNED]) + (
        f" and {len(held) - MAX_SPANNED} more" if len(held) > MAX_SPANNED else ""
    )
    return f" (mostly in {section_path(most, sections)}; spans {named})"


def _own_lines(sections: Sequence[Section], start: int, end: int) -> dict[int, int]:
    """Section id -> lines of [start, end] it holds that none of its subsections holds."""

    def overlap(s: Section) -> int:
        return max(0, min(end, s.end_line) - max(start, s.start_line) + 1)

    own = {s.id: overlap(s) for s in sections}
    for s in sections:
        if s.parent_id in own:
            own[s.parent_id] -= overlap(s)
    return own
