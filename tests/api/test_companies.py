"""GET /v1/companies/{company}[/series]: a line item through time as JSON, CSV and XLSX, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import statistics
import time
import zipfile

import pytest

from corpus.settings import CorpusSettings
from tests.corpus.xbrl_samples import inline_10k


@pytest.fixture
def acme(tmp_path, database_url) -> CorpusSettings:
    """Two tagged 10-Ks of one company; the 2023 10-K restates FY2022 capex (577; the 2022 10-K printed 575)."""
    from corpus.catalog import Corpus
    from corpus.ingest import ingest_paths

    folder = tmp_path / "filings"
    folder.mkdir()
    (folder / "ACME_2023_10K.htm").write_text(inline_10k(2023, ("610", "577"), ("5,000", "4,200")), encoding="ascii")
    (folder / "ACME_2022_10K.htm").write_text(inline_10k(2022, ("575", "400"), ("4,200", "3,900")), encoding="ascii")
    settings = CorpusSettings(data_dir=tmp_path / "data", database_url=database_url, ingest_workers=1)
    corpus = Corpus.open(settings)
    try:
        assert ingest_paths(corpus, [folder], workers=1).ok
    finally:
        corpus.close()
    return settings


def test_a_series_as_json_with_every_point_cited(make_client, acme):
    with make_client(acme) as client:
        r = client.get("/v1/companies/Acme/series", params={"item": "capital expenditure"})
        assert r.status_code == 200, r.text
        s = r.json()
        assert s["company"] == "Acme Widgets, Inc." and s["item"] == "Purchases of property and equipment" and s["unit"] == "USD"
        assert [p["period"] for p in s["points"]] == ["FY2021", "FY2022", "FY2023"]
        fy2022 = s["points"][1]
        assert fy2022["restated"] and fy2022["value"] == 577e6 and fy2022["source"]["doc_id"] == "ACME_2023_10K"
        assert [(x["doc_id"], x["printed"]) for x in fy2022["reports"]] == [("ACME_2022_10K", "575"), ("ACME_2023_10K", "577")]
        assert all(p["source"]["page"] for p in s["points"])
        first = client.get(
            "/v1/companies/Acme/series", params={"item": "capital expenditure", "basis": "first", "period": "FY2022"}
        ).json()
        assert [(p["period"], p["value"]) for p in first["points"]] == [("FY2022", 575e6)]
        named = client.get(
            "/v1/companies/Acme/series", params={"item": "capital expenditure", "statement": "cash flow statement"}
        )
        assert named.status_code == 200 and named.json()["section"] == "Cash Flows"


def test_csv_and_xlsx_exports_carry_the_sources(make_client, acme):
    with make_client(acme) as client:
        r = client.get("/v1/companies/Acme/series", params={"item": "capital expenditure", "format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert 'filename="acme-widgets-inc-purchases-of-property-and-equipment.csv"' in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [row["period"] for row in rows] == ["FY2021", "FY2022", "FY2023"]
        assert (
            rows[1]["restated"] == "True"
            and rows[1]["first_reported_value"] == "575000000.0"
            and rows[1]["restated_doc_id"] == "ACME_2023_10K"
        )
        x = client.get("/v1/companies/Acme/series", params={"item": "capital expenditure", "format": "xlsx"})
        assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
        with zipfile.ZipFile(io.BytesIO(x.content)) as book:
            sheet = book.read("xl/worksheets/sheet1.xml").decode()
        assert sheet.count("<row ") == 4 and "ACME_2022_10K" in sheet


@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        (
            "/v1/companies/Tesla/series",
            {"item": "revenue"},
            404,
            "No filings of 'Tesla' in the corpus; closest companies: Acme Widgets, Inc.",
        ),
        (
            "/v1/companies/Acme/series",
            {"item": "goodwill impairment"},
            404,
            "No line item of Acme Widgets, Inc. matches 'goodwill impairment'; closest:",
        ),
        (
            "/v1/companies/Acme/series",
            {"item": "revenue", "period": "FY2010"},
            404,
            "has no figures for FY2010; the periods it has: FY2021-FY2023",
        ),
        ("/v1/companies/Acme/series", {"item": "revenue", "period": "soon"}, 422, "period='soon' is not a fiscal period"),
        ("/v1/companies/Acme/series", {"item": "revenue", "basis": "median"}, 422, None),
        ("/v1/companies/Acme/series", {"item": "x" * 201}, 422, None),
        ("/v1/companies/Acme/series", {"item": "revenue", "format": "pdf"}, 422, None),
        ("/v1/companies/Acme", {"period": "FY2023-soon"}, 422, "is not a fiscal period"),
    ],
)
def test_bad_input_says_what_exists(make_client, acme, path, params, status, detail):
    with make_client(acme) as client:
        r = client.get(path, params=params)
        assert r.status_code == status, r.text
        if detail:
            assert detail in r.json()["detail"]


def test_the_company_overview_lists_the_standard_items(make_client, acme):
    with make_client(acme) as client:
        r = client.get("/v1/companies/Acme")
        assert r.status_code == 200, r.text
        items = {i["key"]: i for i in r.json()["items"]}
        assert items["revenue"]["series"]["item"] == "Total net sales"
        assert [p["value"] for p in items["revenue"]["series"]["points"]] == [3900e6, 4200e6, 5000e6]
        assert items["capex"]["series"]["points"][-1]["source"]["printed"] == "610"
        assert items["total_debt"]["series"] is None and items["total_debt"]["missing"]


@pytest.mark.serial
@pytest.mark.financebench
@pytest.mark.slow
def test_real_filings_series_is_fast_warm(make_client, series_settings):
    """3M's capex over its five 10-Ks: every point on its page; a warm request well under 200 ms at the median."""
    with make_client(series_settings) as client:
        r = client.get("/v1/companies/3M/series", params={"item": "capital expenditure"})
        assert r.status_code == 200, r.text
        points = r.json()["points"]
        assert [p["period"] for p in points] == [f"FY{y}" for y in range(2015, 2023)]
        assert points[3]["source"]["doc_id"] == "3M_2018_10K" and points[3]["source"]["page"] == 60
        sales = client.get("/v1/companies/3M/series", params={"item": "net sales"}).json()["points"]
        assert [p["period"] for p in sales] == [f"FY{y}" for y in range(2013, 2023)]  # FY2013-14: the 2017 10-K's Item 6
        assert (sales[0]["source"]["doc_id"], sales[0]["source"]["page"], sales[0]["source"]["printed"]) == (
            "3M_2017_10K",
            16,
            "$30,871",
        )
        assert sales[0]["source"]["origin"] == "selected" and points[3]["source"]["origin"] == "table"
        income = client.get("/v1/companies/3M/series", params={"item": "operating income"}).json()["points"]
        fy2017 = next(p for p in income if p["period"] == "FY2017")  # 7,820 in the 2017 10-K; 7,692 from the 2018 10-K on
        assert fy2017["restated"] and fy2017["source"]["doc_id"] == "3M_2019_10K"
        assert (fy2017["restated_in"]["doc_id"], fy2017["restated_in"]["printed"]) == ("3M_2018_10K", "7,692")
        timings = []
        for _ in range(15):
            start = time.perf_counter()
            assert client.get("/v1/companies/3M/series", params={"item": "capital expenditure"}).status_code == 200
            timings.append(time.perf_counter() - start)
        assert statistics.median(timings) < 0.2, timings


def test_an_xlsx_of_thousands_of_rows_is_written_in_constant_memory(tmp_path):
    """5,000 points: XlsxWriter's constant_memory mode flushes rows to disk, so memory does not grow with the rows."""
    import tracemalloc

    from api.series_export import write_xlsx
    from corpus.fiscal import FiscalPeriod
    from corpus.series import LineSeries, Point, Report
    from tools.company_series import PeriodRange
    from tools.series_table import SeriesTable

    def table(n: int) -> SeriesTable:
        report = Report("BIG_2020_10K", None, None, 3, 10, "Widgets sold", "1,234", 1234e6, 6, "table", "2020")
        points = [Point(FiscalPeriod(1000 + i, None, "FY"), [report]) for i in range(n)]
        series = LineSeries(
            ("widgets",), "Widgets sold", "Income Statement", None, "USD", (), ["Widgets sold"], {p.period: p for p in points}
        )
        return SeriesTable("Big Co", "widgets", series, points, PeriodRange(), "latest")

    peaks = []
    for n in (500, 5_000):
        big = table(n)
        tracemalloc.start()
        write_xlsx(big, tmp_path / f"{n}.xlsx")
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    with zipfile.ZipFile(tmp_path / "5000.xlsx") as book:
        assert book.read("xl/worksheets/sheet1.xml").decode().count("<row ") == 5_001
    assert peaks[1] < 2 * peaks[0] + 500_000, peaks  # ten times the rows, not ten times the memory
