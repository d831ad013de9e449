"""The graph's drawing in the docs is the code's: `python -m agent.graph --mermaid` output, verbatim."""

from __future__ import annotations

from pathlib import Path

from agent.graph import GRAPH
from agent.report_graph import REPORT_GRAPH

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_docs_hold_the_current_drawing_of_the_graph():
    drawing = GRAPH.get_graph().draw_mermaid().strip()
    pages = [p for p in DOCS.glob("**/*.md") if drawing in p.read_text()]
    assert pages, "no page under docs/ holds the current graph: paste the output of `python -m agent.graph --mermaid`"


def test_every_step_of_a_run_is_a_node():
    nodes = set(GRAPH.get_graph().nodes)
    assert {
        "call_model",
        "plan_tools",
        "run_tools",
        "record",
        "compact_context",
        "check_citations",
        "force_answer",
        "fail",
    } <= nodes


def test_the_docs_hold_the_current_drawing_of_the_report_graph():
    drawing = REPORT_GRAPH.get_graph().draw_mermaid().strip()
    assert drawing in (DOCS / "agent.md").read_text(), "paste the output of `python -m agent.report_graph --mermaid`"
    assert {"plan", "await_approval", "research_sections", "write_memo", "check"} <= set(REPORT_GRAPH.get_graph().nodes)
