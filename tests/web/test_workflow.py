"""The UI while a slow model works, uploads stage by stage, ingest jobs in History, sort direction, deleting a document."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.web.conftest import CAPEX_ANSWER, default_script, shot
from tests.web.test_ui import ask

SLOW = "Slow-model check: what was 3M's FY2018 capital expenditure?"


def test_a_slow_model_turn_shows_in_progress_with_its_elapsed_time(page, llm_script):
    def slow(body):
        reply = default_script(body)
        reply.delay_s = 4.0
        return reply

    llm_script(slow)
    ask(page, "agentic", SLOW)
    live = page.locator("#trace-agentic li.live")
    expect(live).to_contain_text(re.compile(r"model turn 1: the model reads ~[\d,]+ tokens and writes its reply · \d+ s"))
    expect(page.locator("#run-progress")).to_contain_text(re.compile(r"working · \d+ s"))
    before = live.locator(".elapsed").inner_text()
    page.wait_for_timeout(1600)
    assert live.locator(".elapsed").inner_text() != before, "the timer ticks"
    shot(page, "slow-model-turn")
    expect(page.locator("#trace-agentic")).to_contain_text("model turn 2", timeout=20_000)  # turn 1 ended, turn 2 began
    expect(page.locator("#answer-agentic")).to_contain_text(CAPEX_ANSWER, timeout=20_000)
    expect(page.locator("#trace-agentic li.live")).to_have_count(0)  # no turn is left "in progress" once the run ended
    page.reload()  # a finished run replays without any live turn
    expect(page.locator("#trace-agentic")).to_contain_text("model turn 2")
    expect(page.locator("#trace-agentic li.live")).to_have_count(0)

    page.goto("/")
    expect(page.locator("#typical-time")).to_contain_text(re.compile(r"a run typically takes: agentic \d+ s \(\d+ runs?\)"))
    shot(page, "ask-typical-time")
    assert page.web_errors == []


def test_a_streamed_model_turn_shows_what_the_model_is_writing(page, llm_script):
    def streaming(body):
        reply = default_script(body)
        if not any(m["role"] == "assistant" for m in body["messages"]):
            reply.stream_delay_s = 1.2  # the first turn is written slowly, chunk by chunk
        return reply

    llm_script(streaming)
    ask(page, "agentic", "Streaming check: what was 3M's FY2018 capital expenditure?")
    live = page.locator("#trace-agentic li.live")
    expect(live.locator(".streamed")).to_contain_text(re.compile(r"· \d+ tokens? written"), timeout=15_000)
    expect(live.locator(".tail")).to_be_visible()
    expect(live.locator(".tail")).not_to_be_empty()
    shot(page, "streamed-model-turn")
    expect(page.locator("#answer-agentic")).to_contain_text(CAPEX_ANSWER, timeout=30_000)
    expect(page.locator("#trace-agentic li.live")).to_have_count(0)
    assert page.web_errors == []


def test_upload_shows_each_stage_with_its_time_and_the_job_reopens_from_history(page, tmp_path):
    filing = tmp_path / "INITECH_2022_10K.txt"
    filing.write_text(
        "INITECH INC\nFORM 10-K\nFor the fiscal year ended December 31, 2022\nItem 7. Management's Discussion\nRevenue was $800 million.\n"
    )
    page.goto("/#/documents")
    form, table = page.locator("#upload-form"), page.locator("#documents")
    expect(table.locator("tbody tr")).not_to_have_count(0)
    assert form.bounding_box()["y"] < table.bounding_box()["y"], "upload sits above the catalog"
    rows = table.locator("tbody tr").count()
    page.get_by_label("PDF, HTML, TXT or MD files").set_input_files(str(filing))
    page.get_by_role("button", name="Upload and ingest").click()
    status = page.locator("#upload-status")
    expect(status).to_contain_text(re.compile(r"Ingested in \d+ s: 1 files: 1 added"), timeout=90_000)
    expect(status).to_contain_text("INITECH_2022_10K is in the table below")
    stages = page.locator("#stage-list li")
    expect(stages.filter(has_text="Uploading 1 file")).to_contain_text(re.compile(r"✓.*· \d+ s"))
    expect(stages.filter(has_text="Extracting text and sections: 1 of 1 files")).to_contain_text(re.compile(r"✓.*· \d+ s"))
    expect(stages.filter(has_text="Updating the search index")).to_contain_text(re.compile(r"✓.*· \d+ s"))
    expect(page.locator("#stage-list li.active")).to_have_count(0)
    expect(table.locator("tbody tr")).to_have_count(rows + 1)
    assert status.is_visible() and status.bounding_box()["y"] < 800, "the outcome shows where the user is looking"
    shot(page, "upload-stages", full_page=False)

    page.get_by_role("link", name="History").click()
    job = page.locator("table tbody tr", has_text="ingest INITECH_2022_10K.txt")
    expect(job).to_contain_text("ingest job")
    job.get_by_role("link").click()
    expect(page.locator("#job-stages")).to_contain_text("Updating the search index")
    expect(page.locator("#job-result")).to_contain_text("Ingested: 1 files: 1 added")
    expect(page.locator("#job-result table")).to_contain_text("INITECH_2022_10K")
    shot(page, "history-ingest-job")
    assert page.web_errors == []


def test_sortable_columns_show_their_direction(page):
    page.goto("/#/documents")
    pages = page.locator("#documents th[data-key=pages]")
    doc = page.locator("#documents th[data-key=doc_id]")
    expect(doc).to_have_attribute("aria-sort", "ascending")
    expect(doc).to_contain_text("▲")
    expect(pages).to_have_attribute("aria-sort", "none")
    pages.get_by_role("button").click()
    expect(pages).to_have_attribute("aria-sort", "ascending")
    expect(pages).to_contain_text("Pages ▲")
    expect(doc).to_have_attribute("aria-sort", "none")
    pages.get_by_role("button").click()
    expect(pages).to_have_attribute("aria-sort", "descending")
    expect(pages).to_contain_text("Pages ▼")
    counts = [int(c) for c in page.locator("#documents tbody tr td:nth-child(5)").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)
    shot(page, "sort-direction")


def test_delete_a_document_and_see_a_refusal_in_words(page, tmp_path):
    filing = tmp_path / "HOOLI_2021_10K.txt"
    filing.write_text(
        "HOOLI INC\nFORM 10-K\nFor the fiscal year ended December 31, 2021\nItem 7. Management's Discussion\nRevenue was $9 million.\n"
    )
    page.goto("/#/documents")
    page.get_by_label("PDF, HTML, TXT or MD files").set_input_files(str(filing))
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page.locator("#upload-status")).to_contain_text("Ingested", timeout=90_000)
    row = page.locator("#documents tbody tr", has_text="HOOLI_2021_10K")
    expect(row).to_have_count(1)

    refusal = {
        "detail": "deleting documents needs an admin key; this key has the role 'reader'"
    }  # what an admin-only API answers
    page.route(
        "**/v1/documents/HOOLI_2021_10K",
        lambda route: route.fulfill(status=403, content_type="application/json", body=json.dumps(refusal))
        if route.request.method == "DELETE"
        else route.continue_(),
    )
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete HOOLI_2021_10K").click()
    expect(page.locator("#doc-status")).to_contain_text("Could not delete HOOLI_2021_10K: deleting documents needs an admin key")
    expect(row).to_have_count(1)
    shot(page, "delete-refused", full_page=False)
    page.unroute("**/v1/documents/HOOLI_2021_10K")
    page.web_errors.clear()  # the refused DELETE was staged above

    page.once("dialog", lambda dialog: dialog.dismiss())  # "Cancel" in the confirmation keeps it
    row.get_by_role("button", name="Delete HOOLI_2021_10K").click()
    expect(row).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete HOOLI_2021_10K").click()
    expect(page.locator("#doc-status")).to_contain_text("Deleted HOOLI_2021_10K")
    expect(row).to_have_count(0)
    page.reload()
    expect(page.locator("#documents tbody tr")).not_to_have_count(0)
    expect(page.locator("#documents tbody tr", has_text="HOOLI_2021_10K")).to_have_count(0)  # gone on the server too
    assert page.web_errors == []


def test_the_ask_page_shows_a_crashed_or_restarting_embedded_model(page):
    # /readyz as the server words it (tests/api/test_embedded_model.py drives the real supervisor to these states)
    server = {
        "state": "restarting",
        "restarts": 1,
        "restarts_in_last_hour": 1,
        "max_restarts": 3,
        "extra_buffers": False,
        "last_crash": {"at": 1764590000.0, "reason": "was killed by SIGSEGV (a crash inside llama.cpp)"},
        "log": "data/logs/local-model.log",
    }
    llm = {
        "url": "http://127.0.0.1:5/v1",
        "model": "qwen2.5-coder-1.5b-instruct",
        "embedded": True,
        "server": server,
        "ok": False,
        "error": "the embedded model server was killed by SIGSEGV (a crash inside llama.cpp); Sleuth is restarting it (restart 1 of 3)",
    }
    ready = {"ready": False, "checks": {"llm": llm}}
    page.route("**/readyz", lambda route: route.fulfill(status=503, content_type="application/json", body=json.dumps(ready)))
    page.goto("/")
    expect(page.locator("#model-notice")).to_contain_text("The embedded model is answering")
    expect(page.locator("#banner")).to_contain_text("Sleuth is restarting it (restart 1 of 3)")
    shot(page, "ask-model-restarting", full_page=False)
    server["state"], llm["ok"] = "running", True
    page.reload()
    expect(page.locator("#banner")).to_contain_text(
        "The embedded model server was killed by SIGSEGV (a crash inside llama.cpp) at"
    )
    expect(page.locator("#banner")).to_contain_text("was restarted (1 restart so far); runs in flight then failed")
    page.web_errors.clear()  # the staged 503 from /readyz
