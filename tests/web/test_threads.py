"""A research thread in the browser: ask, follow up twice from the box under the last turn, each turn answered and cited
from the earlier turns' memory; traces collapse; History lists and filters threads; the page fits a phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.fakes.fake_llm import Reply
from tests.web.conftest import CAPEX_ANSWER, CAPEX_CITATION, shot

QUESTION = "What is the FY2018 capital expenditure amount (in USD millions) for 3M?"
FY2017 = "3M's FY2017 capital expenditure was $1,373 million."
DEPRECIATION = "FY2018 depreciation and amortization was $1,488 million, below capex of $1,577 million."
FY2017_CITATION = {
    "doc_id": "3M_2018_10K",
    "page": 60,
    "quote": "Purchases of property, plant and equipment (PP&E) (1,577) (1,373)",
}
DEPRECIATION_CITATION = {"doc_id": "3M_2018_10K", "page": 60, "quote": "Depreciation and amortization 1,488"}


def _question(body: dict) -> str:
    """The text of the agent's user message (the question, after the thread's memory on a follow-up)."""
    users = [m.get("content") for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
    return " ".join(u for u in users if isinstance(u, str))


def thread_script(body: dict) -> Reply:
    """Agentic: grep first, then answer what the latest question asks (it is last in the user message)."""
    messages = body.get("messages") or []
    if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        return Reply(tool_calls=[("grep", {"pattern": "Purchases of property", "glob": "3M_2018*"})])
    text = _question(body)
    if "compare with depreciation" in text:
        return Reply(tool_calls=[("answer", {"answer": DEPRECIATION, "citations": [DEPRECIATION_CITATION]})])
    if "and in 2017?" in text:
        return Reply(tool_calls=[("answer", {"answer": FY2017, "citations": [FY2017_CITATION]})])
    return Reply(tool_calls=[("answer", {"answer": CAPEX_ANSWER, "citations": [CAPEX_CITATION]})])


def test_a_thread_of_three_turns_with_follow_ups(page, fake_llm, llm_script):
    llm_script(thread_script)
    page.goto("/")
    page.get_by_label("Question").fill(QUESTION)
    page.get_by_role("button", name="Ask").click()
    expect(page).to_have_url(re.compile(r"#/runs/"))
    expect(page.locator("#turn-1 .answer-agentic")).to_contain_text(CAPEX_ANSWER)
    box = page.get_by_label("Follow-up question")
    expect(box).to_be_visible()

    box.fill("and in 2017?")
    box.press("Enter")  # Enter sends
    turn2 = page.locator("#turn-2")
    expect(turn2.locator(".turn-question")).to_contain_text("and in 2017?")
    expect(turn2.locator(".answer-agentic")).to_contain_text(FY2017, timeout=30_000)
    expect(turn2.locator(".answer-agentic .chip").first).to_contain_text("p.60")
    expect(box).to_have_value("")
    expect(box).to_be_focused()

    box.type("compare with")
    box.press("Shift+Enter")  # a new line, not a send
    box.type("depreciation")
    expect(box).to_have_value("compare with\ndepreciation")
    expect(page.locator("#turn-3")).to_have_count(0)
    box.fill("compare with depreciation")
    box.press("Enter")
    turn3 = page.locator("#turn-3")
    expect(turn3.locator(".answer-agentic")).to_contain_text(DEPRECIATION, timeout=30_000)
    expect(page.locator("#turn-1 .answer-agentic")).to_contain_text(CAPEX_ANSWER)  # the turns stay stacked
    expect(page.locator("section.turn")).to_have_count(3)
    # Only the newest turn carries the page's ids (its trace open); earlier traces are collapsed and load when opened.
    expect(page.locator("#answer-agentic")).to_contain_text(DEPRECIATION)
    expect(page.locator("#turn-3 details.trace-box")).to_have_attribute("open", "")
    first_trace = page.locator("#turn-1 details.trace-box")
    expect(first_trace).not_to_have_attribute("open", "")
    first_trace.locator(":scope > summary").click()
    expect(first_trace.locator(".trace")).to_contain_text("✓ grep")
    shot(page, "thread")
    # One element per id on a page of three turns: the newest turn carries the ids (a label's `for`, a test's `#id`).
    dupes = page.evaluate(
        "() => { const ids = [...document.querySelectorAll('[id]')].map(e => e.id); return ids.filter((x, i) => ids.indexOf(x) !== i); }"
    )
    assert dupes == [], dupes
    expect(page.locator("#turn-3 #export-menu")).to_be_visible()

    # The follow-ups started from the memory of the earlier turns (what the model was sent).
    asked = [_question(r) for r in fake_llm.requests]
    second = next(q for q in asked if "and in 2017?" in q)
    assert "1,577" in second, "turn 2 was asked without the memory of turn 1's answer"
    third = next(q for q in asked if "compare with depreciation" in q)
    assert "1,373" in third and "1,577" in third

    page.get_by_role("link", name="History").click()
    rows = page.locator("#threads tbody tr")
    expect(rows.first).to_contain_text(QUESTION)
    expect(rows.first).to_contain_text("latest: compare with depreciation")
    expect(rows.first.locator("td").nth(1)).to_have_text("3")
    page.get_by_label("Search questions").fill("compare with depreciation")  # any turn's question matches
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    rows.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"#/threads/"))
    expect(page.locator("section.turn")).to_have_count(3)
    expect(page.locator("#turn-2 .answer-agentic")).to_contain_text(FY2017)
    reopened = page.locator("#turn-2 details.trace-box")
    expect(reopened.locator(".trace li")).to_have_count(0)  # an earlier turn's trace loads when it is opened
    reopened.locator(":scope > summary").click()
    expect(reopened.locator(".trace")).to_contain_text("citations checked")

    page.once("dialog", lambda dialog: dialog.accept("3M capex vs depreciation"))
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#thread-title")).to_have_text("3M capex vs depreciation")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_label("Follow-up question")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the thread page scrolls sideways"
    shot(page, "phone-thread")
    assert page.web_errors == []


def test_a_follow_up_while_the_turn_runs_waits_behind_it(page, fake_llm, llm_script):
    def slow_first(body: dict) -> Reply:
        reply = thread_script(body)
        if "and in 2017?" not in _question(body):
            reply.delay_s = 3
        return reply

    llm_script(slow_first)
    page.goto("/")
    page.get_by_label("Question").fill(QUESTION)
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#turn-1 .run-progress .spinner")).to_be_visible()
    box = page.get_by_label("Follow-up question")
    box.fill("and in 2017?")
    box.press("Enter")
    expect(page.locator("#turn-2 [data-status=queued]")).to_be_visible()
    expect(page.locator("#turn-1 .answer-agentic")).to_contain_text(CAPEX_ANSWER, timeout=30_000)
    expect(page.locator("#turn-2 .answer-agentic")).to_contain_text(FY2017, timeout=30_000)
    assert page.web_errors == []
