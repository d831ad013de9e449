"""Scale benchmark: the search index and grep at 1x and Nx the corpus, on each backend.

Usage:
  python bench/scale.py --data-dir DIR [--factor 10] [--backends local,milvus] [--milvus-url URL] [--new-filing PDF]

DIR holds ingested and indexed filings (`sleuth ingest ...; sleuth index`): the 1x corpus (all 181
FinanceBench filings, or the subset you can afford to embed). The Nx corpus is synthetic: N-1 copies of
every filing under re-labelled companies ("3M S3") and fiscal years (+100 x copy, so a year filter
still picks one copy), with their chunks, catalog rows and text files (hard links, for grep);
its vectors are random unit vectors (say so when quoting latency; recall comes from
bench/retrieval.py on the real index). Printed per backend and size:

  ingest pages/s, one-file ingest latency (ingest + index sync of --new-filing into that corpus),
  BM25 and hybrid p50/p95 with and without filters (the 40 dev questions), grep p50 (unscoped,
  4 patterns), the RSS and start-up time of a fresh process that opens the searcher and answers one
  search (what `sleuth serve` does on its first search).

Timings on a shared 2-core machine are noisy; ratios within one run are what to read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus.catalog import Corpus  # noqa: E402
from corpus.settings import CorpusSettings  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402

GREP_PATTERNS = ["Purchases of property", "Total revenues?", r"\$1,577", "goodwill impairment"]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def synthesize(base: Path, out: Path, factor: int) -> None:
    """Nx corpus in `out`: the base catalog, text and local index, plus factor-1 re-labelled copies of every filing."""
    from sqlalchemy.orm import make_transient

    from corpus.models import Company, Document
    from retrieval.index import HybridIndex
    from retrieval.manifest import SegmentEntry, indexed_text, manifest_json, new_version, write_json
    from retrieval.segments import Segment
    from retrieval.tokenize import tokenize

    if out.exists():
        shutil.rmtree(out)
    (out / "text").mkdir(parents=True)
    (out / "pages").mkdir()
    from retrieval.lock import write_lock

    with write_lock(base / "index", purpose="bench/scale.py snapshot"):  # a consistent copy even while `sleuth index` embeds
        shutil.copytree(base / "index", out / "index", ignore=shutil.ignore_patterns("write.lock*"))
    settings = CorpusSettings(data_dir=out, ingest_workers=1)
    src = Corpus.open(CorpusSettings(data_dir=base, ingest_workers=1))
    dst = Corpus.open(settings)
    index = HybridIndex.open(out / "index", RetrievalSettings(index_dir=out / "index"))
    (out / "index" / "embeddings").mkdir(exist_ok=True)
    manifest = index.manifest
    rng = np.random.default_rng(0)
    with src.sessions() as s_in, dst.sessions() as s_out:
        docs = list(s_in.query(Document).all())
        companies = {c.id: c for c in s_in.query(Company).all()}
        copied: dict[tuple[int, int], int] = {}  # (base company id, copy) -> the copy's company id

        def company_of(doc: Document, copy: int) -> int | None:
            """The re-labelled copy's own company entity (documents point at one; filters and `facts` use it)."""
            base = companies.get(doc.company_id) if doc.company_id is not None else None
            if base is None:
                return None
            if (base.id, copy) not in copied:
                entity = Company(
                    key=base.key if not copy else f"{base.key} s{copy}",
                    name=base.name if not copy else f"{base.name} S{copy}",
                    cik=base.cik,
                    tickers=list(base.tickers or []),
                    aliases=[],
                    name_as_of=base.name_as_of,
                )
                s_out.add(entity)
                s_out.flush()
                copied[(base.id, copy)] = entity.id
            return copied[(base.id, copy)]

        for copy in range(factor):
            tokens: list[list[str]] = []
            entries = []
            for doc in docs:
                new_id = doc.id if copy == 0 else doc.id.replace("_", f"S{copy}_", 1)
                for kind in ("text", "pages"):
                    suffix = ".txt" if kind == "text" else ".json"
                    os.link(base / kind / f"{doc.id}{suffix}", out / kind / f"{new_id}{suffix}")
                row = Document(**{c.key: getattr(doc, c.key) for c in Document.__table__.columns})
                make_transient(row)
                row.company_id = company_of(doc, copy)
                if copy:
                    row.id, row.company = new_id, f"{doc.company or doc.id} S{copy}"
                    row.fiscal_year = (doc.fiscal_year or 2000) + 100 * copy
                s_out.merge(row)
                if copy == 0:
                    entry = manifest.docs[doc.id]
                    if not entry.embedded:  # latency columns: random unit vectors where real ones are not computed yet
                        n = entry.chunks
                        vectors = rng.standard_normal((n, manifest.dim or 384)).astype(np.float32)
                        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                        np.save(out / "index" / "embeddings" / f"{doc.id}.{entry.version}.npy", vectors.astype(np.float16))
                        entry.embedded = True
                    continue
                base_entry = manifest.docs[doc.id]
                entry = replace(
                    base_entry,
                    doc_id=new_id,
                    company=row.company,
                    fiscal_year=row.fiscal_year,
                    version=new_version(),
                    embedded=True,
                )
                chunks = [replace(c, doc_id=new_id) for c in index._view.doc_chunks(doc.id)]
                write_json(
                    out / "index" / "chunks" / f"{new_id}.{entry.version}.json",
                    {"doc": asdict(entry), "chunks": [asdict(c) for c in chunks]},
                )
                vectors = rng.standard_normal((len(chunks), manifest.dim or 384)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                np.save(out / "index" / "embeddings" / f"{new_id}.{entry.version}.npy", vectors.astype(np.float16))
                tokens += [tokenize(indexed_text(entry, c)) for c in chunks]
                entries.append((entry, len(chunks)))
            if copy:
                segment = Segment.build(tokens)
                size = segment.save(out / "index" / "segments")
                for entry, _n in entries:
                    entry.segment = segment.id
                    manifest.docs[entry.doc_id] = entry
                manifest.segments.append(SegmentEntry(segment.id, [[e.doc_id, e.version, n] for e, n in entries], size))
                print(f"  copy {copy}: {len(entries)} filings, {sum(n for _e, n in entries):,} chunks", file=sys.stderr)
        s_out.commit()
    manifest.dim = manifest.dim or 384
    index._merge_tiers(manifest)  # the segments as syncs would have left them (ten of one size tier are merged)
    manifest.generation += 1
    write_json(out / "index" / "manifest.json", manifest_json(manifest))
    src.close()
    dst.close()


def query_latency(searcher, questions: list[dict]) -> dict[str, tuple[float, float]]:
    from retrieval.filters import Filters

    out = {}
    for mode, retrievers in (("bm25", ("bm25",)), ("hybrid", ("bm25", "dense"))):
        for filtered in (False, True):
            times = []
            for q in questions:
                doc = searcher.view().docs.get(q["doc_name"])
                filters = Filters(company=doc.company, year=doc.fiscal_year) if filtered and doc else None
                result = searcher.search(q["question"], k=10, filters=filters, infer_filters=not filtered, retrievers=retrievers)
                # The query's embedding is one model call whatever the backend and size: left out, to show the index's cost.
                times.append(result.timings_ms["total"] - result.timings_ms.get("embed_query", 0.0))
            out[f"{mode}{' + filters' if filtered else ''}"] = (pct(times, 50), pct(times, 95))
    return out


def grep_p50(data_dir: Path) -> tuple[float, float]:
    from tools.context import ToolContext, use_context
    from tools.grep import grep
    from tools.settings import ToolSettings

    corpus = Corpus.open(CorpusSettings(data_dir=data_dir))
    context = ToolContext(corpus, ToolSettings(grep_max_scan_mb=1e6, timeout_s=600))
    times = []
    with use_context(context):
        for pattern in GREP_PATTERNS * 2:
            t = time.perf_counter()
            try:
                grep(pattern, output_mode="count")
            except Exception:  # noqa: BLE001 - no match is still a full scan
                pass
            times.append((time.perf_counter() - t) * 1000)
    mb = sum(p.stat().st_size for p in (data_dir / "text").glob("*.txt")) / 1e6
    corpus.close()
    return pct(times, 50), mb


def startup(data_dir: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of a fresh process opening the searcher and answering one search."""
    code = (
        "import resource, sys, time; t = time.perf_counter(); sys.path.insert(0, %r)\n"
        "from corpus.settings import CorpusSettings; from retrieval.searcher import HybridSearcher\n"
        "s = HybridSearcher.open(CorpusSettings()); s.search('capital expenditures 2018', retrievers=('bm25',))\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)" % str(REPO)
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env, "SLEUTH_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    seconds, rss = proc.stdout.split()
    return float(seconds), float(rss)


def ingest_one(data_dir: Path, pdf: Path, settings: RetrievalSettings) -> tuple[float, float, float, int]:
    """(ingest s, index sync s, pages/s) for one new filing; sync is what an upload pays."""
    from corpus.ingest import ingest_paths
    from retrieval.searcher import sync_index

    corpus = Corpus.open(CorpusSettings(data_dir=data_dir, ingest_workers=1))
    t = time.perf_counter()
    report = ingest_paths(corpus, [pdf], workers=1)
    ingest_s = time.perf_counter() - t
    pages = sum(r.pages or 0 for r in report.results)
    t = time.perf_counter()
    sync_index(corpus, settings)
    sync_s = time.perf_counter() - t
    corpus.close()
    return ingest_s, sync_s, pages / ingest_s if ingest_s else 0.0, pages


def to_milvus(data_dir: Path, settings: RetrievalSettings) -> float:
    """Copy the local index (chunks and vectors) of data_dir into a fresh Milvus collection; returns seconds."""
    from retrieval.index import HybridIndex
    from retrieval.milvus import MilvusIndex

    local = HybridIndex.open(data_dir / "index", settings.model_copy(update={"index_url": None}))
    view = local.view()
    milvus = MilvusIndex(settings.index_url, settings)
    t = time.perf_counter()
    milvus._call("dropping", milvus._drop)
    dim = local.manifest.dim or 384
    milvus._create(dim)
    state = {**milvus._wanted(dim), "generation": 0}
    entries = []
    for doc_id in view.doc_ids:
        entry = view.docs[doc_id]
        chunks = view.doc_chunks(doc_id)
        vectors = None
        if entry.embedded:
            vectors = np.load(data_dir / "index" / "embeddings" / f"{doc_id}.{entry.version}.npy").astype(np.float32)
        milvus._write_chunks(entry, chunks, dim, vectors)
        entries.append(entry)
    milvus._commit_docs(entries, [], state)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--backends", default="local")
    parser.add_argument("--milvus-url", default=os.environ.get("SLEUTH_RETRIEVAL_INDEX_URL"))
    parser.add_argument(
        "--new-filing", type=Path, default=REPO.parent / "shared" / "financebench" / "pdfs" / "BOEING_2019_10K.pdf"
    )
    parser.add_argument("--questions", type=Path, default=REPO.parent / "shared" / "financebench" / "questions_dev.jsonl")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out" / "scale")
    args = parser.parse_args()
    from retrieval.searcher import HybridSearcher

    questions = [json.loads(line) for line in args.questions.read_text().splitlines()]
    args.work.mkdir(parents=True, exist_ok=True)
    # A filing the corpora do not hold yet (a copy under a new name is a new document: same bytes, own doc_id).
    new_filing = args.work / "new" / f"NEWFILING_{args.new_filing.name}"
    new_filing.parent.mkdir(exist_ok=True)
    shutil.copyfile(args.new_filing, new_filing)
    sizes = {"1x": args.work / "x1", f"{args.factor}x": args.work / f"x{args.factor}"}
    print(f"building the corpora from {args.data_dir} ...", file=sys.stderr)
    synthesize(args.data_dir, sizes["1x"], 1)
    synthesize(args.data_dir, sizes[f"{args.factor}x"], args.factor)
    rows = []
    for backend in args.backends.split(","):
        for label, data_dir in sizes.items():
            env: dict[str, str] = {}
            settings = RetrievalSettings(index_dir=data_dir / "index")
            if backend == "milvus":
                collection = f"scale_{label}"
                env = {
                    "SLEUTH_RETRIEVAL_INDEX_URL": args.milvus_url,
                    "SLEUTH_RETRIEVAL_INDEX_COLLECTION": collection,
                    "SLEUTH_RETRIEVAL_INDEX_DIR": str(data_dir / "index"),
                }
                settings = settings.model_copy(update={"index_url": args.milvus_url, "index_collection": collection})
                load_s = to_milvus(data_dir, settings)
                print(f"  {backend} {label}: loaded into Milvus in {load_s:.0f} s", file=sys.stderr)
            start_s, rss = startup(data_dir, {**env, "SLEUTH_RETRIEVAL_INDEX_DIR": str(data_dir / "index")})
            searcher = HybridSearcher.open(CorpusSettings(data_dir=data_dir), settings)
            view = searcher.view()
            chunks = sum(e.chunks for e in view.docs.values())
            lat = query_latency(searcher, questions)
            g50, mb = grep_p50(data_dir)
            ingest_s, sync_s, pps, pages = ingest_one(data_dir, new_filing, settings)
            rows.append(
                [
                    backend,
                    label,
                    f"{len(view.docs):,}",
                    f"{chunks:,}",
                    f"{mb:,.0f}",
                    f"{pps:.0f}",
                    f"{ingest_s:.1f} + {sync_s:.2f}",
                    *(f"{lat[k][0]:.1f} / {lat[k][1]:.1f}" for k in ("bm25", "bm25 + filters", "hybrid", "hybrid + filters")),
                    f"{g50:.0f}",
                    f"{start_s:.1f}",
                    f"{rss:,.0f}",
                ]
            )
            print("  " + " | ".join(rows[-1]), file=sys.stderr)
    header = [
        "backend",
        "size",
        "filings",
        "chunks",
        "text MB",
        "ingest pages/s",
        "one 10-K: ingest + index s",
        "BM25 p50/p95 ms",
        "BM25+filters",
        "hybrid p50/p95 ms",
        "hybrid+filters",
        "grep p50 ms",
        "start-up s",
        "RSS MiB",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(
        f"\n{args.factor}x vectors are random unit vectors (latency only); query latency excludes embedding the query "
        f"(the same model call on every backend); one 10-K = {args.new_filing.name} ({pages} pages)."
    )


if __name__ == "__main__":
    main()
