"""A thread's research memory: what each earlier turn found, sized to its budget with the oldest turns shortened first."""

from __future__ import annotations

import time

import pytest

from agent.answer import Answer, AnswerChart, AnswerCitation, ChartPoint, ToolRecord
from agent.memory import HEADER, Turn, thread_memory
from agent.policy import STRICT

CITE = AnswerCitation(
    doc_id="3M_2018_10K", page=60, quote="Purchases of property, plant and equipment (PP&E) (1,577)", verified=True
)


def capex_turn(year: int = 2018, text: str | None = None) -> Turn:
    answer = Answer(
        mode="agentic",
        question=f"What was 3M's FY{year} capex?",
        text=text or f"3M's FY{year} capital expenditure was $1,577 million (purchases of PP&E).",
        status="answered",
        citations=[CITE],
        steps=[
            ToolRecord(name="list_documents", arguments={"company": "3M"}, summary="3M_2018_10K ..."),
            ToolRecord(name="read", arguments={"doc_id": "3M_2018_10K", "pages": "60"}, summary="Cash Flows ... (1,577)"),
            ToolRecord(name="grep", arguments={"pattern": "PP&E", "doc_ids": ["3M_2017_10K"]}, summary="1 match"),
        ],
        chart=AnswerChart(
            title="Capex", unit="USD millions", points=[ChartPoint(label="FY2018", value=1577, doc_id="3M_2018_10K", page=60)]
        ),
    )
    return Turn(question=f"What was 3M's FY{year} capex?", answer=answer)


def test_a_whole_turn_lists_question_answer_citations_filings_and_figures():
    memory = thread_memory([capex_turn()], 4000)
    assert memory.turns == 1 and memory.summarized == 0 and memory.omitted == 0
    text = memory.text
    assert text.startswith(HEADER)
    assert "Turn 1 [answered] Q: What was 3M's FY2018 capex?" in text
    assert "$1,577 million" in text
    assert '3M_2018_10K p.60 (checked): "Purchases of property, plant and equipment (PP&E) (1,577)"' in text
    assert "Filings identified: 3M_2018_10K, 3M_2017_10K" in text
    assert "FY2018: 1577 USD millions (3M_2018_10K p.60)" in text and "read(doc_id='3M_2018_10K', pages='60')" in text
    assert memory.tokens == (len(text) + 3) // 4


def test_oldest_turns_are_summarized_first_and_the_budget_holds():
    turns = [capex_turn(2000 + n, text=f"Turn {n} answer. " + "Detail of the capex discussion. " * 20) for n in range(10)]
    whole = thread_memory(turns, 100_000)
    assert whole.summarized == 0
    budget = whole.tokens // 2
    memory = thread_memory(turns, budget)
    assert memory.tokens <= budget and memory.turns == 10
    assert 0 < memory.summarized < 10
    # The newest turn is still whole (its quote is there); the oldest is shortened (its quote is not).
    assert memory.text.count('"Purchases of property') == 10 - memory.summarized
    assert memory.text.index("Q: What was 3M's FY2000 capex?") < memory.text.index("Q: What was 3M's FY2009 capex?")
    assert memory.text.count("Detail of the capex discussion.") < whole.text.count("Detail of the capex discussion.")


@pytest.mark.serial
def test_fifty_turns_fit_a_small_budget_fast_with_the_oldest_left_out():
    turns = [capex_turn(1970 + n) for n in range(50)]
    started = time.perf_counter()
    memory = thread_memory(turns, 600)
    elapsed_ms = 1000 * (time.perf_counter() - started)
    assert memory.tokens <= 600 and memory.turns == 50
    assert 0 < memory.omitted <= memory.summarized < 50
    assert f"({memory.omitted} oldest turns left out to fit the memory budget.)" in memory.text
    assert "FY2019 capex" in memory.text  # the newest turn is always there
    assert elapsed_ms < 50, f"memory of 50 turns took {elapsed_ms:.1f} ms"


def test_failed_unanswered_and_changed_turns_say_so():
    failed = Turn(
        question="What was 3M's FY2018 capex?",
        answer=Answer(
            mode="agentic", question="q", text="The run failed: x", status="failed", error="the model endpoint is down"
        ),
    )
    cancelled = Turn(question="And its depreciation?", answer=None, status="cancelled")
    changed = capex_turn()
    changed.changed = {"3M_2018_10K": "deleted from the corpus since"}
    text = thread_memory([failed, cancelled, changed], 4000).text
    assert "Turn 1 [failed] Q: What was 3M's FY2018 capex?\nA: (failed: the model endpoint is down)" in text
    assert "Turn 2 [cancelled] Q: And its depreciation?\nA: (this turn ended without an answer)" in text
    assert "Note: 3M_2018_10K cited here was deleted from the corpus since; find the filing again before using it." in text


def test_no_turns_no_memory_and_a_tiny_budget_still_holds():
    assert thread_memory([], 1000).text == ""
    tiny = thread_memory([capex_turn()], 20)
    assert tiny.tokens <= 20 and tiny.summarized == 1


def test_standalone_question_from_a_condense_reply():
    assert STRICT.standalone_question("What was 3M's FY2017 capex?", "x") == "What was 3M's FY2017 capex?"
    reply = '<think>They mean 2017.</think>\nStandalone question: "What was 3M\'s capital expenditure in FY2017?"'
    assert STRICT.standalone_question(reply, "x") == "What was 3M's capital expenditure in FY2017?"
    assert STRICT.standalone_question("  \n", "and in 2017?") == "and in 2017?"
