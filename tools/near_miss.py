"""Near-miss doc_ids (the lenient policy's): the one filing an almost-right doc_id can only mean."""

from __future__ import annotations

import difflib
import re

_YEAR = re.compile(r"(?:19|20)\d\d")


def meant_doc_id(doc_id: str, suggestions: list[str]) -> str | None:
    """The one doc_id a near miss can only mean ('ADBE_2017_10K' for ADOBE_2017_10K, 'PEPSICO_2022Q2_10K' for
    PEPSICO_2022_10K), from Corpus.suggest's closest ids (best first): clearly the closest spelling, and of the same
    year when it names one; None when in doubt."""
    wanted = doc_id.strip().lower()
    ratios = [difflib.SequenceMatcher(None, wanted, s.lower()).ratio() for s in suggestions[:2]]
    if not ratios or ratios[0] < 0.8 or (len(ratios) > 1 and ratios[0] - ratios[1] < 0.05):
        return None
    best = suggestions[0]
    years = set(_YEAR.findall(wanted))
    return best if years <= set(_YEAR.findall(best.lower())) else None
