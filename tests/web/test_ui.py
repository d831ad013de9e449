"""The web UI in headless Chromium against a live server: ask in each mode, trace, citations, votes, history, documents."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.fakes.fake_llm import Reply
from tests.web.conftest import CAPEX_ANSWER, shot

QUESTION = "What is the FY2018 capital expenditure amount (in USD millions) for 3M?"


def ask(page, mode: str, question: str = QUESTION) -> None:
    page.goto("/")
    expect(page.get_by_label("Question")).to_be_focused()
    page.get_by_label("Question").fill(question)
    page.locator(f"input[name=mode][value={mode}]").check()
    page.get_by_role("button", name="Ask").click()
    expect(page).to_have_url(re.compile(r"#/runs/"))


def test_ask_agentic_watch_the_trace_and_open_a_citation(page):
    page.goto("/")
    expect(page.locator("#f-form option[value='10-K']")).to_have_count(1)  # filters filled from the catalog
    expect(page.locator("#companies option[value='3M Company']")).to_have_count(1)
    shot(page, "ask")
    ask(page, "agentic")
    trace = page.locator("#trace-agentic")
    expect(trace).to_contain_text('grep(pattern="Purchases of property", glob="3M_2018*")')
    expect(trace).to_contain_text("✓ grep")
    expect(trace).to_contain_text("citations checked: 1, all verified")
    answer = page.locator("#answer-agentic")
    expect(answer).to_contain_text(CAPEX_ANSWER)
    expect(page.locator("#run-status [data-status=answered]")).to_be_visible()
    expect(answer).not_to_contain_text("null")
    chip = answer.locator(".chip").first
    expect(chip).to_have_text("✓ 3M Company · 10-K · FY2018 · p.60")
    shot(page, "trace")
    trace.locator("details summary").first.click()  # a collapsed tool result opens
    expect(trace.locator("details[open] code")).to_contain_text("matches for 'Purchases of property'")
    chip.click()
    dialog = page.locator("#page-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#page-title")).to_contain_text("page 60 of 160")
    expect(dialog.locator("li.hit").first).to_contain_text("Purchases of property, plant and equipment")
    shot(page, "citation")
    dialog.get_by_role("button", name="Next page").click()
    expect(dialog.locator("#page-title")).to_contain_text("page 61 of 160")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.web_errors == []


def test_rag_and_compare_side_by_side_then_vote_and_leaderboard(page, llm_script):
    ask(page, "rag")
    expect(page.locator("#answer-rag")).to_contain_text(CAPEX_ANSWER)
    expect(page.locator("#trace-rag")).to_contain_text("retrieved 8 passages")

    ask(page, "compare")
    expect(page.locator("#answer-agentic")).to_contain_text(CAPEX_ANSWER)
    expect(page.locator("#answer-rag")).to_contain_text(CAPEX_ANSWER)
    expect(page.locator("#answer-rag .metrics")).to_contain_text("1 LLM calls")
    expect(page.locator("#answer-agentic .metrics")).to_contain_text("1 tool calls")
    shot(page, "compare")
    page.get_by_role("button", name="Agentic better").click()
    expect(page.locator("#votes")).to_contain_text("your vote is counted")
    page.get_by_role("link", name="See the leaderboard").click()
    expect(page.locator("#leaderboard tbody tr").first).to_contain_text("agentic")
    shot(page, "leaderboard")


def test_history_reopens_a_run_with_its_full_trace(page):
    ask(page, "agentic", "History check: what was 3M's FY2018 capex?")
    expect(page.locator("#answer-agentic")).to_contain_text(CAPEX_ANSWER)
    page.get_by_role("link", name="History").click()
    page.get_by_label("Search questions").fill("History check")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_role("link").click()
    expect(page.locator("#trace-agentic")).to_contain_text("model turn 2")  # replayed from the stored events
    expect(page.locator("#answer-agentic")).to_contain_text(CAPEX_ANSWER)
    page.reload()
    expect(page.locator("#trace-agentic li")).not_to_have_count(0)


def test_errors_read_as_messages(page, llm_script):
    llm_script(lambda body: Reply(status=500, content="GPU out of memory"))
    ask(page, "agentic")
    expect(page.locator("#run-status [data-status=failed]")).to_be_visible()
    expect(page.locator("#answer-agentic")).to_contain_text("GPU out of memory")
    page.goto("/#/runs/not-a-run")
    expect(page.locator("#banner")).to_contain_text("no run 'not-a-run'")
    page.goto("/")
    page.get_by_label("Question").fill("q")
    page.locator("#f-year").select_option("2017")
    page.locator("#f-company").fill("3M")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#banner")).to_contain_text("no filing matches")


def test_documents_filter_sort_view_and_upload(page, tmp_path):
    page.goto("/#/documents")
    table = page.locator("#documents tbody tr")
    expect(table).to_have_count(2)
    page.get_by_label("Company").fill("adobe")
    expect(table).to_have_count(1)
    page.get_by_label("Company").fill("")
    page.get_by_role("button", name="Pages").click()
    expect(table.first).to_contain_text("ADOBE_2017_10K")  # fewer pages first
    table.get_by_role("link", name="3M_2018_10K").click()
    expect(page.locator(".outline")).to_contain_text("Item 8")
    shot(page, "document")
    page.locator(".outline button", has_text="Cash Flows").first.click()
    expect(page.locator("#page-title")).to_contain_text("page 60")
    page.keyboard.press("Escape")

    filing = tmp_path / "GLOBEX_2023_10K.txt"
    filing.write_text(
        "GLOBEX CORPORATION\nFORM 10-K\nFor the fiscal year ended December 31, 2023\nItem 7. Management's Discussion\nRevenue was $2,400 million.\n"
    )
    page.goto("/#/documents")
    page.get_by_label("PDF, HTML, TXT or MD files").set_input_files(str(filing))
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page.locator("#upload-log")).to_contain_text("GLOBEX_2023_10K.txt: added (1/1)", timeout=60_000)
    expect(page.locator("#upload-status")).to_contain_text("Ingested", timeout=90_000)  # in the upload card, not atop the page
    expect(page.locator("#documents tbody tr")).to_have_count(3)
    shot(page, "upload")

    bad = tmp_path / "evil.pdf"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.get_by_label("PDF, HTML, TXT or MD files").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page.locator("#upload-status")).to_contain_text("named like pdf but its content is binary data")

    filing.write_text(
        filing.read_text().replace("$2,400 million", "$2,500 million")
    )  # the same name again: refused unless replace is ticked
    page.get_by_label("PDF, HTML, TXT or MD files").set_input_files(str(filing))
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page.locator("#upload-status")).to_contain_text("already in the catalog: GLOBEX_2023_10K")  # in the upload card
    page.get_by_label("Replace filings that are already in the catalog under the same name").check()
    page.get_by_label("PDF, HTML, TXT or MD files").set_input_files(str(filing))
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page.locator("#upload-log")).to_contain_text("GLOBEX_2023_10K.txt: updated (1/1)", timeout=60_000)


def test_phone_width_and_keyboard(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_be_visible()
    page.get_by_label("Question").fill(QUESTION)
    page.get_by_label("Question").press("Tab")
    expect(page.locator("input[name=mode][value=agentic]")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "phone-ask")


def test_cancel_a_running_run(page, llm_script):
    llm_script(lambda body: Reply(content="still thinking", delay_s=8))
    ask(page, "agentic")
    expect(page.locator("#run-progress .spinner")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#run-status [data-status=cancelled]")).to_be_visible(timeout=15_000)
    expect(page.locator("#trace-agentic")).to_contain_text("status: cancelled")
    expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
