"""Ingest end to end on synthetic files, against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from corpus import ingest as ingest_module
from corpus.errors import DocumentNotFound
from corpus.ingest import MetadataOverride, ingest_paths
from tests.corpus.samples import TEN_K_PAGES, write_encrypted_pdf, write_image_only_pdf, write_pdf


def statuses(report) -> dict[str, str]:
    return {Path(r.path).name: r.status for r in report.results}


def test_pdf_ingest_stores_text_pages_metadata_and_structure(corpus, tmp_path):
    pdf = write_pdf(tmp_path / "ACME_2022_10K.pdf", [*TEN_K_PAGES[:3], "", *TEN_K_PAGES[3:]])
    report = ingest_paths(corpus, [pdf])
    assert report.ok, report.results
    assert statuses(report) == {"ACME_2022_10K.pdf": "added"}

    doc = corpus.get("ACME_2022_10K")
    assert doc.page_count == 8 and doc.format == "pdf"
    assert doc.form_type == "10-K" and doc.fiscal_year == 2022
    assert "ACME" in (doc.company or "").upper()
    text = corpus.store.read("ACME_2022_10K")
    assert text.page_text(4) == ""  # the empty page is kept, so later pages keep their numbers
    assert "Operating leases 120." in text.page_text(8)
    line = text.lines.index("Operating leases 120.") + 1
    assert text.page_of_line(line) == 8

    keys = {s.key: s for s in corpus.sections("ACME_2022_10K")}
    assert {"Item 1A", "Item 7", "Item 8", "Note 2", "Note 3"} <= set(keys)
    assert keys["Item 7"].start_page == 5 and keys["Note 3"].start_page == 8
    assert keys["Note 3"].path.startswith("Item 8 > Note 3")
    doc = corpus.get("ACME_2022_10K", with_sections=True)
    refs = {(x.text, x.target_key, x.target_section_id is not None) for x in doc.cross_references}
    assert any(key == "Note 3" and resolved for _, key, resolved in refs), refs


def test_reingest_is_incremental_and_replaces_changed_files(corpus, tmp_path):
    folder = tmp_path / "filings"
    folder.mkdir()
    pdf = write_pdf(folder / "ACME_2022_10K.pdf", TEN_K_PAGES)
    (folder / "notes.md").write_text("# Memo\n\nRevenue grew 12% in 2022.\n")
    (folder / "deep").mkdir()
    (folder / "deep" / "release.txt").write_text("ACME reports record results\fPage two: EPS $2.10\n")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n")

    first = ingest_paths(corpus, [folder])
    assert statuses(first) == {"ACME_2022_10K.pdf": "added", "notes.md": "added", "release.txt": "added", "logo.png": "skipped"}
    assert first.ok  # an unsupported file is listed, not a failure
    assert corpus.get("release").page_count == 2  # form feed is a page break

    second = ingest_paths(corpus, [folder])
    assert statuses(second)["ACME_2022_10K.pdf"] == "unchanged" and second.pages == 0

    write_pdf(pdf, [*TEN_K_PAGES, "Item 15. Exhibits\nExhibit 21"])
    third = ingest_paths(corpus, [folder])
    assert statuses(third)["ACME_2022_10K.pdf"] == "updated"
    assert corpus.get("ACME_2022_10K").page_count == len(TEN_K_PAGES) + 1
    assert corpus.count() == 3

    corpus.remove("notes")
    assert corpus.count() == 2 and "notes" not in corpus.store.doc_ids()
    with pytest.raises(DocumentNotFound, match="release"):
        corpus.remove("releas")


def test_bad_inputs_each_get_one_reason_and_the_batch_goes_on(corpus, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    write_pdf(folder / "good.pdf", ["Revenue 100"])
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + b"garbage" * 200)
    (folder / "empty.pdf").write_bytes(b"")
    write_image_only_pdf(folder / "scan.pdf")
    write_encrypted_pdf(folder / "locked.pdf")
    write_pdf(folder / "sidecar.pdf", ["Net income 5"])
    (folder / "sidecar.pdf.json").write_text('{"fiscal_year": "soon", "colour": "red"}')
    unreadable = folder / "secret.txt"
    unreadable.write_text("x" * 100)
    unreadable.chmod(0)

    report = ingest_paths(corpus, [folder, tmp_path / "missing"])
    results = {Path(r.path).name: r for r in report.results}
    assert not report.ok
    assert results["good.pdf"].status == "added"
    expected = {
        "corrupt.pdf": "corrupt",
        "empty.pdf": "empty",
        "scan.pdf": "image-only",
        "locked.pdf": "encrypted",
        "sidecar.pdf": "sidecar.pdf.json (fiscal_year",
        "missing": "no such file",
    }
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() != "0":
        expected["secret.txt"] = "cannot read"  # root reads any file, so this case only holds for other users
    for name, reason in expected.items():
        assert results[name].status == "failed", (name, results[name])
        assert reason in results[name].reason, (name, results[name].reason)
        assert "\n" not in results[name].reason
    assert "colour" in results["sidecar.pdf"].reason
    assert corpus.store.doc_ids() <= {"good", "secret"}


def test_sidecar_and_flags_override_detected_metadata(corpus, tmp_path):
    pdf = write_pdf(tmp_path / "ACME_2022_10K.pdf", TEN_K_PAGES)
    (tmp_path / "ACME_2022_10K.json").write_text(json.dumps({"doc_id": "acme-fy22", "ticker": "ACMW", "form_type": "10k"}))
    report = ingest_paths(corpus, [pdf], MetadataOverride(company="Acme Widgets Holdings"))
    assert report.ok, report.results
    doc = corpus.get("acme-fy22")
    assert (doc.ticker, doc.form_type, doc.company) == ("ACMW", "10-K", "Acme Widgets Holdings")
    assert doc.metadata_sources["ticker"] == "override"

    (tmp_path / "ACME_2022_10K.json").write_text(json.dumps({"doc_id": "acme-fy22", "ticker": "ACME"}))
    assert statuses(ingest_paths(corpus, [pdf]))["ACME_2022_10K.pdf"] == "updated"  # metadata change re-ingests


def test_same_content_under_another_name_is_its_own_document_with_a_note(corpus, tmp_path):
    write_pdf(tmp_path / "ULTA_2023Q1_EARNINGS.pdf", ["Net sales 2.6 billion"])
    (tmp_path / "ULTA_2024Q1_EARNINGS.pdf").write_bytes((tmp_path / "ULTA_2023Q1_EARNINGS.pdf").read_bytes())
    report = ingest_paths(corpus, [tmp_path / "ULTA_2023Q1_EARNINGS.pdf", tmp_path / "ULTA_2024Q1_EARNINGS.pdf"])
    assert statuses(report) == {"ULTA_2023Q1_EARNINGS.pdf": "added", "ULTA_2024Q1_EARNINGS.pdf": "added"}
    assert report.results[1].reason == "same content as document 'ULTA_2023Q1_EARNINGS'"
    assert corpus.get("ULTA_2024Q1_EARNINGS").fiscal_year == 2024  # each name keeps its own metadata


def test_failed_write_leaves_no_half_document(corpus, tmp_path, monkeypatch):
    pdf = write_pdf(tmp_path / "ACME_2022_10K.pdf", TEN_K_PAGES)
    real_write = corpus.store.write

    def crash_after_text(doc_id, text, content_hash):
        corpus.store.text_dir.mkdir(parents=True, exist_ok=True)
        corpus.store.text_path(doc_id).write_text("partial")
        raise OSError("disk full")

    monkeypatch.setattr(corpus.store, "write", crash_after_text)
    with pytest.raises(OSError):
        ingest_paths(corpus, [pdf])
    assert corpus.count() == 0 and corpus.store.doc_ids() == set()

    monkeypatch.setattr(corpus.store, "write", real_write)
    assert ingest_paths(corpus, [pdf]).ok and corpus.count() == 1


def test_interrupted_batch_keeps_finished_documents(corpus, tmp_path, monkeypatch):
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("a", "b", "c"):
        write_pdf(batch / f"{name}.pdf", [f"Document {name} revenue"])
    real_save = ingest_module._save
    calls = []

    def save_then_interrupt(corpus_, job, analysis):
        calls.append(job.doc_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_save(corpus_, job, analysis)

    monkeypatch.setattr(ingest_module, "_save", save_then_interrupt)
    report = ingest_paths(corpus, [batch])
    assert report.interrupted and not report.ok
    assert corpus.count() == 1 and corpus.store.doc_ids() == {calls[0]}


def test_catalog_filters_and_order(corpus, tmp_path):
    tmp_path = tmp_path / "filings"
    tmp_path.mkdir()
    for name, year in (("ACME_2021_10K", 2021), ("ACME_2022_10K", 2022)):
        pages = [TEN_K_PAGES[0].replace("2022", str(year)), *TEN_K_PAGES[1:]]
        write_pdf(tmp_path / f"{name}.pdf", pages)
    (tmp_path / "OTHERCO_2022Q2_10Q.txt").write_text("FORM 10-Q\nFor the quarterly period ended June 30, 2022\nOtherCo Inc.\n")
    assert ingest_paths(corpus, [tmp_path]).ok
    assert [d.id for d in corpus.list(company="acme")] == ["ACME_2022_10K", "ACME_2021_10K"]
    assert [d.id for d in corpus.list(form="10k", year=2021)] == ["ACME_2021_10K"]
    assert [d.id for d in corpus.list(form="10-Q")] == ["OTHERCO_2022Q2_10Q"]
    with pytest.raises(ValueError, match="unknown form type"):
        corpus.list(form="20-F")


def test_control_characters_are_cleaned_so_ripgrep_searches_the_file(corpus, tmp_path):
    from corpus.rg_binary import rg_binary

    (tmp_path / "noisy.txt").write_bytes(b"Total revenue\x00 for the year 1,577\x01 million\x0b\nNet income 42\n")
    assert ingest_paths(corpus, [tmp_path / "noisy.txt"]).ok
    out = subprocess.run([rg_binary(), "-n", "Net income", str(corpus.store.text_dir)], capture_output=True, text=True)
    assert "noisy.txt:2:Net income 42" in out.stdout
