"""The cited page as printed: page images (PNG, cache, ETag), boxes of quotes and figures, originals kept and removed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from api.boxes import find_boxes
from api.page_renderer import PageRenderer, RenderFailed, RenderLimits
from api.uploads import sweep
from corpus.catalog import Corpus
from corpus.ingest import file_sha256, ingest_paths
from corpus.page_image import Glyph
from corpus.settings import CorpusSettings
from tests.api.conftest import wait_for
from tests.corpus.samples import write_image_only_pdf

LABEL = "Purchases of property, plant and equipment (PP&E)"


def write_statement_pdf(path: Path) -> Path:
    """Page 1: a cash-flow table (label and year columns placed apart, as statements print them) and wrapped narrative;
    page 2: rotated 90 degrees; page 3: narrative."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 72), "ACME CORPORATION  FORM 10-K  For the fiscal year ended December 31, 2022", fontsize=10)
    page.insert_text((72, 110), "Consolidated Statement of Cash Flows (in millions)", fontsize=11)
    for x, text in ((400, "2022"), (480, "2021")):
        page.insert_text((x, 140), text, fontsize=10)
    rows = [("Net income", "5,349", "4,570"), (LABEL, "(1,577)", "(1,373)"), ("Proceeds from sale of PP&E", "262", "158")]
    for i, (label, v1, v2) in enumerate(rows):
        y = 160 + 18 * i
        page.insert_text((72, y), label, fontsize=10)
        page.insert_text((400, y), v1, fontsize=10)
        page.insert_text((480, y), v2, fontsize=10)
    page.insert_textbox(
        pymupdf.Rect(72, 260, 300, 340),
        "Capital spending focused on growth programs and the renewal of manufacturing plants across every business segment.",
        fontsize=10,
    )
    rotated = doc.new_page(width=612, height=792)
    rotated.insert_text((72, 100), "Total revenue 32,765", fontsize=14)
    rotated.set_rotation(90)
    doc.new_page(width=612, height=792).insert_text(
        (72, 100), "Item 7. Capital expenditures were $1,577 million in 2022.", fontsize=10
    )
    doc.save(path)
    doc.close()
    return path


def ink_inside(png: bytes, box: dict, margin: float = 1.0) -> int:
    """Dark pixels of the image inside the box: a box over printed text has many, one beside it none."""
    import pymupdf

    pix = pymupdf.Pixmap(png)
    dark = 0
    for y in range(max(0, int(box["y"] - margin)), min(pix.height, int(box["y"] + box["h"] + margin))):
        for x in range(max(0, int(box["x"] - margin)), min(pix.width, int(box["x"] + box["w"] + margin))):
            if sum(pix.pixel(x, y)[:3]) < 300:
                dark += 1
    return dark


@pytest.fixture
def pdf_corpus(tmp_path, database_url) -> CorpusSettings:
    settings = CorpusSettings(data_dir=tmp_path / "data", database_url=database_url, ingest_workers=1)
    write_statement_pdf(tmp_path / "ACME_2022_10K.pdf")
    (tmp_path / "GLOBEX_2023_10K.htm").write_text(
        "<html><body><p>GLOBEX FORM 10-K</p><p>Revenue was $2,400 million.</p></body></html>"
    )
    corpus = Corpus.open(settings)
    try:
        assert ingest_paths(corpus, [tmp_path / "ACME_2022_10K.pdf", tmp_path / "GLOBEX_2023_10K.htm"], workers=1).ok
    finally:
        corpus.close()
    return settings


def test_page_image_is_a_cached_png_with_etag(make_client, pdf_corpus, tmp_path):
    digest = file_sha256(tmp_path / "ACME_2022_10K.pdf")
    assert (pdf_corpus.originals_dir / digest).read_bytes() == (tmp_path / "ACME_2022_10K.pdf").read_bytes()
    with make_client(pdf_corpus) as client:
        image = client.get("/v1/documents/ACME_2022_10K/pages/1/image")
        assert image.status_code == 200, image.text
        assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")
        assert (int(image.headers["x-image-width"]), int(image.headers["x-image-height"])) == (1224, 1584)  # 144 dpi
        assert "private" in image.headers["cache-control"] and image.headers["etag"].startswith('"')
        assert list((pdf_corpus.page_images_dir / digest).glob("*.png")), "the render is cached on disk"
        again = client.get("/v1/documents/ACME_2022_10K/pages/1/image", headers={"If-None-Match": image.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        other = client.get("/v1/documents/ACME_2022_10K/pages/3/image", headers={"If-None-Match": image.headers["etag"]})
        assert other.status_code == 200 and other.headers["etag"] != image.headers["etag"]
        cached = client.get("/v1/documents/ACME_2022_10K/pages/1/image")
        assert cached.content == image.content


def test_page_routes_need_a_key_once_one_exists(make_client, pdf_corpus):
    from api.models import migrate
    from api.run_store import RunStore

    corpus = Corpus.open(pdf_corpus)
    migrate(corpus.engine)
    _, secret = RunStore(corpus.sessions).create_key("viewer")
    corpus.close()
    with make_client(pdf_corpus) as client:
        for path in ("/v1/documents/ACME_2022_10K/pages/1/image", "/v1/documents/ACME_2022_10K/pages/1/boxes?q=1,577"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer slk_wrong"}).status_code == 401
            assert client.get(path, headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_concurrent_requests_for_one_page_share_a_render(make_client, pdf_corpus):
    import concurrent.futures

    with make_client(pdf_corpus) as client:
        renderer, calls = client.app.state.page_renderer, []
        real_call = renderer._call

        async def counted(fn, *args):
            calls.append(fn.__name__)
            return await real_call(fn, *args)

        renderer._call = counted
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(lambda _: client.get("/v1/documents/ACME_2022_10K/pages/3/image"), range(6)))
        assert {r.status_code for r in replies} == {200} and len({r.content for r in replies}) == 1
        assert calls == ["_render"], "six requests, one render"
        cache = next(pdf_corpus.page_images_dir.iterdir())
        assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".png"], "one entry, no temp files left"


def test_boxes_lie_over_the_cited_figure_also_on_rotated_pages(make_client, pdf_corpus):
    with make_client(pdf_corpus) as client:
        png = client.get("/v1/documents/ACME_2022_10K/pages/1/image").content
        row = client.get("/v1/documents/ACME_2022_10K/pages/1/boxes", params={"q": f"{LABEL} | (1,577) | (1,373)"}).json()
        assert row["found"] and row["match"] == "quote" and (row["width"], row["height"]) == (1224, 1584)
        assert len(row["boxes"]) == 3, row  # the label and both year columns, on one printed row
        assert len({round(b["y"]) for b in row["boxes"]}) == 1
        assert all(ink_inside(png, b) > 20 for b in row["boxes"])
        value = min(row["boxes"], key=lambda b: abs(b["x"] - 400 * 2))
        assert 790 <= value["x"] <= 810 and 300 <= value["y"] <= 340  # x=400 pt, baseline 178 pt, at 2 px per pt

        # the agent's split words, line wraps and ellipses, as the citation checker tolerates them
        wrapped = client.get(
            "/v1/documents/ACME_2022_10K/pages/1/boxes",
            params={"q": "renewal of manufac turing plants ... every business segment"},
        ).json()
        assert (
            wrapped["match"] == "quote" and len(wrapped["boxes"]) >= 2 and all(ink_inside(png, b) > 20 for b in wrapped["boxes"])
        )
        figure = client.get("/v1/documents/ACME_2022_10K/pages/1/boxes", params={"q": "capex was $1,577 million"}).json()
        assert figure["match"] == "figures" and len(figure["boxes"]) == 1 and ink_inside(png, figure["boxes"][0]) > 20
        missing = client.get("/v1/documents/ACME_2022_10K/pages/1/boxes", params={"q": "Goodwill impairment of $9,999"})
        assert missing.status_code == 200 and missing.json()["found"] is False and missing.json()["boxes"] == []

        turned = client.get("/v1/documents/ACME_2022_10K/pages/2/image")
        assert (int(turned.headers["x-image-width"]), int(turned.headers["x-image-height"])) == (
            1584,
            1224,
        )  # landscape, as shown
        boxes = client.get("/v1/documents/ACME_2022_10K/pages/2/boxes", params={"q": "Total revenue 32,765"}).json()
        assert boxes["found"] and (boxes["width"], boxes["height"]) == (1584, 1224)
        box = boxes["boxes"][0]
        assert box["h"] > box["w"], "rotated text runs down the image"
        assert ink_inside(turned.content, box) > 50


def test_bad_input_says_what_is_wrong_and_the_text_view_still_works(make_client, pdf_corpus, tmp_path):
    with make_client(pdf_corpus) as client:
        out_of_range = client.get("/v1/documents/ACME_2022_10K/pages/9/image")
        assert out_of_range.status_code == 404 and "has pages 1-3; there is no page 9" in out_of_range.json()["detail"]
        assert client.get("/v1/documents/ACME_2022_10K/pages/0/boxes", params={"q": "x"}).status_code == 404
        assert "closest: ACME_2022_10K" in client.get("/v1/documents/ACME_2022_10Q/pages/1/image").json()["detail"]
        html = client.get("/v1/documents/GLOBEX_2023_10K/pages/1/image")
        assert html.status_code == 404 and "HTML filing: it has no page images" in html.json()["detail"]
        assert client.get("/v1/documents/GLOBEX_2023_10K/pages/1").status_code == 200
        assert client.get("/v1/documents/ACME_2022_10K/pages/1/boxes", params={"q": "x" * 2001}).status_code == 422
        assert client.get("/v1/documents/ACME_2022_10K/pages/1/boxes").status_code == 422

        (pdf_corpus.originals_dir / file_sha256(tmp_path / "ACME_2022_10K.pdf")).unlink()
        gone = client.get("/v1/documents/ACME_2022_10K/pages/1/image")
        assert (
            gone.status_code == 404 and "original file of ACME_2022_10K (ACME_2022_10K.pdf) is missing" in gone.json()["detail"]
        )
        assert "text view still works" in gone.json()["detail"]
        assert client.get("/v1/documents/ACME_2022_10K/pages/1").status_code == 200

    corpus = Corpus.open(pdf_corpus)
    try:  # re-ingesting the unchanged file brings its original back
        assert ingest_paths(corpus, [tmp_path / "ACME_2022_10K.pdf"], workers=1).counts["unchanged"] == 1
    finally:
        corpus.close()
    with make_client(pdf_corpus) as client:
        assert client.get("/v1/documents/ACME_2022_10K/pages/1/image").status_code == 200


def test_rendering_is_bounded_in_time_and_size(make_client, pdf_corpus, tmp_path):
    import pymupdf

    with make_client(pdf_corpus, page_render_timeout_s=0.01) as client:
        slow = client.get("/v1/documents/ACME_2022_10K/pages/1/image")
        assert slow.status_code == 422 and "took longer than 0.01 s (SLEUTH_API_PAGE_RENDER_TIMEOUT_S)" in slow.json()["detail"]
        assert client.get("/healthz").status_code == 200
    doc = pymupdf.open()
    doc.new_page(width=14400, height=14400).insert_text((100, 200), "Huge page 4,321", fontsize=200)
    doc.save(tmp_path / "HUGE_2022_10K.pdf")
    corpus = Corpus.open(pdf_corpus)
    try:
        assert ingest_paths(corpus, [tmp_path / "HUGE_2022_10K.pdf"], workers=1).ok
    finally:
        corpus.close()
    with make_client(pdf_corpus) as client:
        huge = client.get("/v1/documents/HUGE_2022_10K/pages/1/image")
        assert huge.status_code == 200 and max(int(huge.headers["x-image-width"]), int(huge.headers["x-image-height"])) <= 2400
        boxes = client.get("/v1/documents/HUGE_2022_10K/pages/1/boxes", params={"q": "4,321"}).json()
        assert (
            boxes["found"]
            and boxes["width"] == int(huge.headers["x-image-width"])
            and ink_inside(huge.content, boxes["boxes"][0]) > 20
        )


def test_uploads_keep_only_the_original_and_delete_removes_it(make_client, pdf_corpus, tmp_path):
    uploads = pdf_corpus.data_dir / "uploads"
    pdf = tmp_path / "ACME_2022_10K.pdf"  # uploaded under another name: two documents share one original
    digest = file_sha256(pdf)
    with make_client(pdf_corpus) as client:
        job = client.post("/v1/documents", files=[("files", ("INITECH_2022_10K.pdf", pdf.read_bytes(), "application/pdf"))])
        assert wait_for(client, job.json()["id"])["status"] == "done"
        assert not any(uploads.iterdir()), "the staged upload is removed once ingested"
        assert (pdf_corpus.originals_dir / digest).is_file()
        assert client.get("/v1/documents/INITECH_2022_10K/pages/1/image").status_code == 200

        write_image_only_pdf(tmp_path / "SCAN_2022_10K.pdf")
        failed = client.post(
            "/v1/documents",
            files=[("files", ("SCAN_2022_10K.pdf", (tmp_path / "SCAN_2022_10K.pdf").read_bytes(), "application/pdf"))],
        )
        assert wait_for(client, failed.json()["id"])["status"] == "failed"
        assert not any(uploads.iterdir()), "a failed ingest leaves no staged file"
        assert not (pdf_corpus.originals_dir / file_sha256(tmp_path / "SCAN_2022_10K.pdf")).exists()

        assert client.delete("/v1/documents/INITECH_2022_10K").status_code == 200
        assert (pdf_corpus.originals_dir / digest).is_file(), "ACME_2022_10K still uses these bytes"
        assert client.delete("/v1/documents/ACME_2022_10K").status_code == 200
        assert not (pdf_corpus.originals_dir / digest).exists() and not (pdf_corpus.page_images_dir / digest).exists()
        assert client.get("/v1/documents/ACME_2022_10K/pages/1/image").status_code == 404


def test_replacing_a_document_removes_its_old_original(pdf_corpus, tmp_path):
    import pymupdf

    old = file_sha256(tmp_path / "ACME_2022_10K.pdf")
    doc = pymupdf.open(tmp_path / "ACME_2022_10K.pdf")
    doc[2].insert_text((72, 300), "Restated: capital expenditures were $1,600 million.", fontsize=10)
    doc.save(tmp_path / "new.pdf")
    doc.close()
    (tmp_path / "new.pdf").replace(tmp_path / "ACME_2022_10K.pdf")
    corpus = Corpus.open(pdf_corpus)
    try:
        assert ingest_paths(corpus, [tmp_path / "ACME_2022_10K.pdf"], workers=1).counts["updated"] == 1
        assert not (pdf_corpus.originals_dir / old).exists()
        assert (pdf_corpus.originals_dir / file_sha256(tmp_path / "ACME_2022_10K.pdf")).is_file()
        corpus.remove("ACME_2022_10K")
        corpus.remove("GLOBEX_2023_10K")
        assert not any(pdf_corpus.originals_dir.iterdir())
    finally:
        corpus.close()


def test_sweep_removes_staged_folders_of_ended_or_unknown_jobs(tmp_path):
    class Store:
        runs = {"live": type("Run", (), {"status": "queued"})(), "ended": type("Run", (), {"status": "cancelled"})()}

        def get(self, run_id):
            return self.runs.get(run_id)

    for name, run in (("a", "live"), ("b", "ended"), ("c", "gone")):
        (tmp_path / name).mkdir()
        (tmp_path / name / ".run").write_text(run)
    (tmp_path / "d").mkdir()  # a request still receiving its files: no job yet
    assert sweep(tmp_path, Store()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "d"]


def test_find_boxes_reads_like_the_citation_checker():
    def line(y: float, text: str, number: int, x: float = 0.0) -> list[Glyph]:
        return [Glyph(c, x + 10 * i, y, x + 10 * i + 10, y + 12, number) for i, c in enumerate(text)]

    glyphs = (
        line(0, "Balance Shee t", 1) + line(20, "Total assets", 2) + line(20, "12,345", 3, x=400) + line(40, "12,345", 4, x=400)
    )
    assert find_boxes("Balance Sheet", glyphs).how == "quote"
    row = find_boxes("Total assets | 12,345", glyphs)
    assert row.how == "quote" and [b.y for b in row.boxes] == [20, 20], "the value on the label's row, not the one below"
    assert find_boxes("total assets were $12,345", glyphs).how == "figures"
    assert find_boxes("Goodwill", glyphs).boxes == [] and find_boxes("   ", glyphs).how is None


def _allocate(megabytes: int, limits: RenderLimits) -> int:
    return len(bytearray(megabytes << 20))


def test_the_render_process_has_a_memory_limit():
    renderer = PageRenderer(RenderLimits(memory_mb=512))
    try:
        assert asyncio.run(renderer._call(_allocate, 64)) == 64 << 20
        with pytest.raises(RenderFailed, match="more than 512 MB"):
            asyncio.run(renderer._call(_allocate, 1024))
        assert asyncio.run(renderer._call(_allocate, 1)) == 1 << 20, "the process lives on after a refused allocation"
    finally:
        renderer.close()
