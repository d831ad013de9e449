"""Figures reconciled with the filings' series (a wrong-year figure is caught and fixed once) and charts in answers."""

from __future__ import annotations

import asyncio

import pytest

from agent.answer import AnswerCitation, RunMetrics
from agent.answer_chart import ChartArgs, chart_markdown, checked_chart
from agent.corpus_access import text_of
from agent.figure_check import asked_periods, figure_problems, stated_figures
from agent.rag import answer_once
from tests.agent.conftest import client
from tests.agent.test_research import CAPEX_CITATION, answer, ask
from tests.fakes.fake_llm import FakeLLM

pytestmark = pytest.mark.financebench

WRONG_YEAR = {"doc_id": "3M_2018_10K", "page": 60, "quote": "Purchases of property, plant and equipment (PP&E) (1,373)"}
CAPEX_POINTS = [
    {
        "label": "FY2016",
        "value": 1420,
        "doc_id": "3M_2018_10K",
        "page": 60,
        "quote": "Purchases of property, plant and equipment (PP&E) (1,420)",
    },
    {
        "label": "FY2017",
        "value": 1373,
        "doc_id": "3M_2018_10K",
        "page": 60,
        "quote": "Purchases of property, plant and equipment (PP&E) (1,373)",
    },
    {
        "label": "FY2018",
        "value": 1577,
        "doc_id": "3M_2018_10K",
        "page": 60,
        "quote": "Purchases of property, plant and equipment (PP&E) (1,577)",
    },
]


def test_stated_figures_and_asked_periods():
    assert [
        (s.number, s.scale) for s in stated_figures("Capex was $1,373 million in FY2018, up 3.5% from 2017; 1.4 billion")
    ] == [(1373, 6), (1.4, 9)]
    assert asked_periods("What is the FY2018 capital expenditure amount for 3M?") == ({2018}, None)
    assert asked_periods("Revenue in Q2 2023 vs Q2 2022?") == ({2023}, 2)
    assert asked_periods("How did capex change from FY2016 to FY2019 to FY2022?")[0] == {2016, 2019, 2022}
    assert asked_periods("What did 3M spend on PP&E in FY2016-FY2018?")[0] == {2016, 2017, 2018}  # a range asks for each year


def test_a_figure_of_another_year_is_named_with_the_right_one(tools):
    cites = [AnswerCitation(**WRONG_YEAR, verified=True)]
    problems = figure_problems(
        "3M's FY2018 capital expenditure was $1,373 million.", "What is 3M's FY2018 capital expenditure?", cites, tools
    )
    assert problems == [
        "$1,373 million is 3M Company's FY2017 value of 'Purchases of property, plant and equipment (PP&E)' "
        "(3M_2018_10K p.60); FY2018 is (1,577) (3M_2018_10K p.60)"
    ]
    right = [AnswerCitation(**CAPEX_CITATION, verified=True)]
    assert (
        figure_problems(
            "3M's FY2018 capital expenditure was $1,577 million.", "What is 3M's FY2018 capital expenditure?", right, tools
        )
        == []
    )
    unit = figure_problems("It was $1,577 thousand.", "What is 3M's FY2018 capital expenditure?", right, tools)
    assert unit and "as printed in millions" in unit[0]
    trend = figure_problems("From 1,420 to 1,577.", "How did 3M's capex change over FY2016-FY2018 and FY2019?", right, tools)
    assert trend == []  # three periods named: a trend, not a single period


def test_a_wrong_year_draft_is_caught_and_fixed_once(tools, agent_settings):
    script = [
        answer("3M's FY2018 capital expenditure was $1,373 million.", WRONG_YEAR),
        answer("3M's FY2018 capital expenditure was $1,577 million.", CAPEX_CITATION),
    ]
    with FakeLLM(script) as fake:
        result, events = ask(
            "What is the FY2018 capital expenditure amount (in USD millions) for 3M?", fake, tools, agent_settings
        )
        second = fake.requests[1]["messages"]
    assert result.status == "answered" and "1,577" in result.text and not result.warnings
    feedback = second[-1]["content"]
    assert "$1,373 million is 3M Company's FY2017 value" in feedback and "FY2018 is (1,577) (3M_2018_10K p.60)" in feedback
    checks = [e.data for e in events if e.type == "citation_check"]
    assert checks[0]["failed"] and not checks[1]["failed"]


def test_a_wrong_year_answer_left_unfixed_is_unsure_with_the_warning(tools, agent_settings):
    script = [answer("3M's FY2018 capital expenditure was $1,373 million.", WRONG_YEAR)] * 2
    with FakeLLM(script) as fake:
        result, _ = ask("What is the FY2018 capital expenditure amount (in USD millions) for 3M?", fake, tools, agent_settings)
    assert result.status == "unsure" and any("FY2017 value" in w for w in result.warnings)


def test_an_answer_about_a_trend_carries_its_chart(tools, agent_settings):
    chart = {"title": "3M capital expenditure", "unit": "USD million", "points": CAPEX_POINTS}
    reply = answer("3M's capex rose from $1,420 million (FY2016) to $1,577 million (FY2018).", CAPEX_CITATION)
    reply.tool_calls[0] = ("answer", {**reply.tool_calls[0][1], "chart": chart})
    with FakeLLM([reply]) as fake:
        result, _ = ask("How did 3M's capital expenditure change from FY2016 to FY2018?", fake, tools, agent_settings)
    assert result.status == "answered" and result.chart is not None
    assert [(p.label, p.value, p.verified) for p in result.chart.points] == [
        ("FY2016", 1420, True),
        ("FY2017", 1373, True),
        ("FY2018", 1577, True),
    ]
    assert "| FY2017 | 1,373 | 3M_2018_10K p.60 |" in chart_markdown(result.chart)


def test_rag_answers_carry_charts_and_figure_checks(tools):
    chart = {"title": "3M capex", "unit": "USD million", "points": [*CAPEX_POINTS[:2], {**CAPEX_POINTS[2], "page": 59}]}
    reply = answer("3M's FY2018 capital expenditure was $1,373 million.", WRONG_YEAR)
    reply.tool_calls[0] = ("answer", {**reply.tool_calls[0][1], "chart": chart})

    async def go(fake):
        llm = client(fake.base_url)
        try:
            messages = [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "Passages: ...\nQuestion: FY2018 capex of 3M?"},
            ]
            return await answer_once(
                "What is 3M's FY2018 capital expenditure?",
                messages,
                llm=llm,
                tools=tools,
                emit=_discard,
                metrics=RunMetrics(),
                timeout_s=30,
                mode="rag",
            )
        finally:
            await llm.close()

    with FakeLLM([reply]) as fake:
        result = asyncio.run(go(fake))
    assert result.status == "unsure" and result.chart is not None and result.chart.points[2].verified is False
    assert any("chart point FY2018: 3M_2018_10K p.59" in w for w in result.warnings)
    assert any("FY2017 value" in w for w in result.warnings)


def test_a_chart_point_off_its_page_is_a_problem(tools):
    args = ChartArgs(title="t", unit="USD million", points=[CAPEX_POINTS[0], {**CAPEX_POINTS[1], "quote": "(9,999)"}])
    chart, problems = checked_chart(args, lambda d: text_of(tools, d))
    assert [p.verified for p in chart.points] == [True, False] and problems[0].startswith("chart point FY2017: 3M_2018_10K p.60")


async def _discard(event) -> None:
    return None
