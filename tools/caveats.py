"""What the tools say beside a doc_id: a name that contradicts the filing, and twins (one filing under several names)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from corpus.catalog import Corpus
from corpus.models import Document
from corpus.naming import name_conflict


@dataclass(frozen=True)
class Caveats:
    """Per doc_id: the name's conflict with the catalog, and the other names of the same filing (same bytes or accession)."""

    conflicts: dict[str, str] = field(default_factory=dict)  # doc_id -> "name says 2022Q2 10-Q; the filing is ..."
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # doc_id -> every name of its filing, sorted

    @classmethod
    def of(cls, docs: Iterable[Document]) -> Caveats:
        conflicts: dict[str, str] = {}
        parent: dict[str, str] = {}  # union-find over doc_ids: one root per filing

        def root(doc_id: str) -> str:
            while parent[doc_id] != doc_id:
                parent[doc_id] = parent[parent[doc_id]]
                doc_id = parent[doc_id]
            return doc_id

        first_with: dict[tuple[str, str], str] = {}  # ("bytes", hash) / ("accession", number) -> a doc_id having it
        for doc in docs:
            if (conflict := name_conflict(doc)) is not None:
                conflicts[doc.id] = conflict
            parent.setdefault(doc.id, doc.id)
            for key in [("bytes", doc.content_hash)] + ([("accession", doc.accession)] if doc.accession else []):
                if key in first_with:
                    parent[root(doc.id)] = root(first_with[key])
                else:
                    first_with[key] = doc.id
        groups: dict[str, list[str]] = {}
        for doc_id in parent:
            groups.setdefault(root(doc_id), []).append(doc_id)
        names = {d: tuple(sorted(ids)) for ids in groups.values() if len(ids) > 1 for d in ids}
        return cls(conflicts, names)

    @classmethod
    def load(cls, corpus: Corpus) -> Caveats:
        """Caveats of every document in the catalog."""
        return cls.of(corpus.list())

    @classmethod
    def for_document(cls, corpus: Corpus, doc: Document) -> Caveats:
        """Caveats of one document (its twins looked up, not the whole catalog)."""
        return cls.of([doc, *corpus.same_filing(doc)])

    def scoped(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """doc_id -> note, for the documents of a result that have one."""
        return {d: note for d in dict.fromkeys(doc_ids) if (note := self.note(d))}

    def twins(self, doc_id: str) -> list[str]:
        """The other names of this filing."""
        return [n for n in self.names.get(doc_id, ()) if n != doc_id]

    def note(self, doc_id: str) -> str:
        """What to say beside `doc_id`: '' when its name is right and it has no twin."""
        parts = []
        if conflict := self.conflicts.get(doc_id):
            parts.append(conflict)
        if twins := self.twins(doc_id):
            parts.append(f"same file also named {', '.join(twins)}")
        return "; ".join(parts)

    def collapse(self, doc_ids: Sequence[str]) -> tuple[list[str], dict[str, list[str]]]:
        """`doc_ids` with each filing once (its first name in this order), and kept doc_id -> the twins left out."""
        kept: list[str] = []
        left_out: dict[str, list[str]] = {}
        first: dict[tuple[str, ...], str] = {}
        for doc_id in doc_ids:
            group = self.names.get(doc_id)
            if group is None:
                kept.append(doc_id)
            elif group in first:
                left_out.setdefault(first[group], []).append(doc_id)
            else:
                first[group] = doc_id
                kept.append(doc_id)
        return kept, left_out
