"""A scripted model for report runs over 3M's FY2018 10-K: a plan, sections researched by sub-agents (one may fail), the memo.

The script answers by what each request is (the plan tool offered, the memo tool offered, or a section's sub-agent named
in its question), so sections running in parallel get their own replies whatever order they arrive in.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.fake_llm import Reply

DOC = "3M_2018_10K"
CAPEX = {"doc_id": DOC, "page": 60, "quote": "Purchases of property, plant and equipment (PP&E) (1,577) (1,373) (1,420)"}
BUYBACKS = {"doc_id": DOC, "page": 60, "quote": "Purchases of treasury stock (4,870) (2,068) (3,753)"}
DIVIDENDS = {"doc_id": DOC, "page": 60, "quote": "Dividends paid to shareholders (3,193) (2,803) (2,678)"}

PLAN = {
    "title": "3M: capital allocation, FY2016-FY2018",
    "sections": [
        {"title": "Capital expenditures", "questions": ["What did 3M spend on PP&E in FY2016-FY2018?"], "filings": [DOC]},
        {"title": "Shareholder returns", "questions": ["What did 3M pay in dividends and buybacks?"], "filings": [DOC]},
        {"title": "Acquisitions", "questions": ["What did 3M spend on acquisitions?"], "filings": [DOC]},
    ],
    "left_out": ["FY2015 and earlier: no filing in the corpus covers them"],
}


def _section(body: dict[str, Any]) -> str:
    return next((m["content"] for m in body["messages"] if m["role"] == "user"), "") or ""


def _tools(body: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or []}


def answer(text: str, *citations: dict) -> Reply:
    return Reply(tool_calls=[("answer", {"answer": text, "status": "answered", "citations": list(citations)})])


def memo(sections: list[dict[str, Any]]) -> Reply:
    """The memo for the sections as planned (their titles picked out of the request)."""
    by_title = {
        "Capital expenditures": {
            "title": "Capital expenditures",
            "text": "3M spent $1,577 million on PP&E in FY2018 [1], up from $1,373 million in FY2017 [1].",
            "tables": [
                {
                    "title": "Purchases of PP&E ($ millions)",
                    "columns": ["FY", "Capex"],
                    "rows": [["2018", "1,577 [1]"], ["2017", "1,373 [1]"], ["2016", "1,420 [1]"]],
                }
            ],
            "chart": {
                "title": "Capital expenditures",
                "unit": "USD millions",
                "kind": "bar",
                "points": [
                    {"label": "FY2016", "value": 1420, "doc_id": DOC, "page": 60, "quote": "(1,420)"},
                    {"label": "FY2017", "value": 1373, "doc_id": DOC, "page": 60, "quote": "(1,373)"},
                    {"label": "FY2018", "value": 1577, "doc_id": DOC, "page": 60, "quote": "(1,577)"},
                ],
            },
        },
        "Shareholder returns": {
            "title": "Shareholder returns",
            "text": "Dividends paid were $3,193 million in FY2018 [2] and buybacks $4,870 million [3].",
        },
    }
    out = [by_title.get(s["title"], {"title": s["title"], "text": "It could not be researched."}) for s in sections]
    return Reply(
        tool_calls=[
            (
                "write_memo",
                {
                    "summary": "3M returned $8,063 million to shareholders in FY2018, with dividends of $3,193 million [2].",
                    "sections": out,
                    "not_found": ["Acquisition spending by deal"],
                },
            )
        ]
    )


class ReportModel:
    """The callable script: plan, sections, memo; `failing` names a section whose model calls fail (HTTP 500)."""

    def __init__(
        self, plan: dict[str, Any] | None = None, failing: str | None = "Acquisitions", revised: dict[str, Any] | None = None
    ) -> None:
        self.plan = plan or PLAN
        self.failing = failing
        self.revised = revised  # the plan a follow-up that revises the memo gets
        self.sections: list[dict[str, Any]] = self.plan["sections"]

    def __call__(self, body: dict[str, Any]) -> Reply:
        tools = _tools(body)
        if "report_plan" in tools:
            revising = "Current plan of the memo" in _section(body)
            return Reply(tool_calls=[("report_plan", self.revised if revising and self.revised else self.plan)])
        if "write_memo" in tools:
            asked = _section(body)
            return memo([s for s in self.sections_named(asked)])
        question = _section(body)
        if self.failing and f"'{self.failing}'" in question:
            return Reply(status=500, content="the GPU fell over")
        done = body["messages"][-1]["role"] == "tool"
        if "FY2016 and FY2017 too" in question:  # a revised section: dividends for three years
            return answer("Dividends paid were $3,193 million, $2,803 million and $2,678 million in FY2018-FY2016.", DIVIDENDS)
        if "Capital expenditures" in question:
            if not done:
                return Reply(tool_calls=[("grep", {"pattern": "Purchases of property", "glob": "3M_2018*"})])
            return answer(
                "PP&E purchases were $1,577 million in FY2018, $1,373 million in FY2017 and $1,420 million in FY2016.", CAPEX
            )
        return answer("Dividends $3,193m and buybacks $4,870m in FY2018.", DIVIDENDS, BUYBACKS)

    def sections_named(self, request: str) -> list[dict[str, Any]]:
        """The sections the memo request holds, in order (the approved plan may differ from the scripted one)."""
        return [
            {"title": line.split(": ", 1)[1]}
            for line in request.split("\n")
            if line.startswith("## Section ") and "(KEPT)" not in line
        ]
