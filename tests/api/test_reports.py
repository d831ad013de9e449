"""Report runs through the API: the plan shown and stored, approval with an edited plan, sections in parallel (one failing),
the checked memo; and the plan route's bad input (approve twice, invalid plans, others' runs, expiry)."""

from __future__ import annotations

import copy
import re

import pytest

from agent.report import Report, ReportPlan
from tests.api.conftest import make_keys, wait_for
from tests.fakes.report_script import PLAN, ReportModel

QUESTION = "A memo on 3M's capital allocation, FY2016-FY2018"


@pytest.mark.financebench
def test_a_report_is_planned_approved_with_an_edited_plan_researched_and_written(make_client, fake_llm, filings_settings):
    fake_llm.respond_with(ReportModel(failing="Acquisitions"))
    with make_client(filings_settings) as client:
        created = client.post("/v1/runs", json={"question": QUESTION, "mode": "report", "filters": {"company": "3M"}})
        assert created.status_code == 202, created.text
        run_id = created.json()["id"]
        planned = wait_for(client, run_id)
        assert planned["status"] == "planned" and planned["plan"]["title"] == PLAN["title"]
        assert planned["result"] == {"plan": planned["plan"]} and planned["metrics"] is None
        first = client.get(f"/v1/runs/{run_id}/events", params={"format": "json"}).json()
        assert [e["type"] for e in first][-3:] == ["report_plan", "awaiting_approval", "status"]
        assert first[-1]["data"]["status"] == "planned"

        edited = copy.deepcopy(planned["plan"])
        edited["title"] = "3M: how it spent its cash, FY2016-FY2018"
        edited["sections"][0]["questions"].append("How did capex compare with depreciation?")
        approved = client.post(f"/v1/runs/{run_id}/plan", json={"plan": edited, "approve": True})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] in {"queued", "running"} and approved.json()["plan"]["title"] == edited["title"]
        twice = client.post(f"/v1/runs/{run_id}/plan", json={"approve": True})
        assert twice.status_code == 409 and "not awaiting a plan's approval" in twice.json()["detail"]

        run = wait_for(client, run_id)
        assert run["status"] == "unsure", run  # one section failed; the others stand
        result = run["result"]
        report = Report.model_validate(result["report"])
        assert result["mode"] == "report" and report.title == edited["title"] and report.plan == ReportPlan.model_validate(edited)
        capex, returns, acquisitions = report.sections
        assert capex.status == returns.status == "answered" and capex.tables and capex.chart is not None
        assert all(p.verified for p in capex.chart.points)
        assert acquisitions.status == "failed" and "500" in acquisitions.error and "failed" in acquisitions.text
        assert any("Acquisitions: research failed" in x for x in report.not_found)
        assert any(x.startswith("Left out: FY2015") for x in report.not_found)
        assert len(result["citations"]) == 3 and all(c["verified"] is True for c in result["citations"])
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", result["text"])}
        assert markers == {1, 2, 3}  # every marker names a checked citation, each used
        assert "## What was checked and not found" in result["text"] and "| 2018 | 1,577 [" in result["text"]
        assert result["metrics"]["subagents"] == 3 and result["metrics"]["tool_calls"] == 1

        events = client.get(f"/v1/runs/{run_id}/events", params={"format": "json"}).json()
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # one numbering across the approval
        types = [e["type"] for e in events[len(first) :]]
        assert types.count("section_started") == 3 and types.count("section_finished") == 3
        assert types.index("memo_started") > max(i for i, t in enumerate(types) if t == "section_finished")
        finished = {e["data"]["title"]: e["data"]["status"] for e in events if e["type"] == "section_finished"}
        assert finished == {"Capital expenditures": "answered", "Shareholder returns": "answered", "Acquisitions": "failed"}
        assert {e["agent"] for e in events} >= {"main", "section-1", "section-2", "section-3"}
        check = next(e for e in events if e["type"] == "citation_check" and e["agent"] == "main")
        assert check["data"]["checked"] >= 6 and check["data"]["failed"] == []


@pytest.mark.financebench
def test_approve_in_the_request_skips_the_wait(make_client, fake_llm, filings_settings):
    fake_llm.respond_with(ReportModel(failing=None))
    with make_client(filings_settings) as client:
        run_id = client.post("/v1/runs", json={"question": QUESTION, "mode": "report", "approve": True}).json()["id"]
        run = wait_for(client, run_id)
        assert run["status"] == "answered" and run["result"]["report"]["sections"][2]["status"] == "answered"
        types = [e["type"] for e in client.get(f"/v1/runs/{run_id}/events", params={"format": "json"}).json()]
        assert "awaiting_approval" not in types and "answer" in types


ACME_PLAN = {
    "title": "Acme: widgets",
    "sections": [{"title": "Revenue", "questions": ["What was revenue in FY2022?"], "filings": ["ACME_2022_10K"]}],
}


def test_the_plan_route_refuses_bad_input(make_client, fake_llm, small_corpus):
    keys = make_keys(small_corpus, "alice", "bob")
    alice, bob = keys["alice"], keys["bob"]
    fake_llm.respond_with(ReportModel(plan=ACME_PLAN))
    with make_client(small_corpus) as client:
        run_id = client.post("/v1/runs", json={"question": "Acme memo", "mode": "report"}, headers=alice).json()["id"]
        assert wait_for(client, run_id, headers=alice)["status"] == "planned"

        def approve(body: dict, who: dict = alice):
            return client.post(f"/v1/runs/{run_id}/plan", json=body, headers=who)

        empty = approve({"plan": {"title": "x", "sections": []}})
        assert empty.status_code == 422 and "plan.sections" in empty.json()["detail"]
        unknown = approve({"plan": ACME_PLAN | {"sections": [ACME_PLAN["sections"][0] | {"filings": ["NOPE_2022_10K"]}]}})
        assert unknown.status_code == 422 and "plan.sections.0.filings.0: 'NOPE_2022_10K'" in unknown.json()["detail"]
        no_questions = approve({"plan": ACME_PLAN | {"sections": [{"title": "Revenue", "questions": []}]}})
        assert no_questions.status_code == 422 and "plan.sections.0.questions" in no_questions.json()["detail"]
        assert approve({"approve": True}, bob).status_code == 404  # another key's run
        assert client.post("/v1/runs/nope/plan", json={"approve": True}, headers=alice).status_code == 404
        kept = approve({"plan": ACME_PLAN | {"title": "Acme: widgets and gadgets"}, "approve": False})
        assert kept.status_code == 200 and kept.json()["status"] == "planned"
        assert kept.json()["plan"]["title"] == "Acme: widgets and gadgets"

        services = client.app.state.services
        assert services.store.expire_plans(0) == [run_id]  # nobody approved it in time
        expired = client.get(f"/v1/runs/{run_id}", headers=alice).json()
        assert expired["status"] == "cancelled" and "not approved within" in expired["error"]
        assert expired["plan"]["title"] == "Acme: widgets and gadgets"
        late = approve({"approve": True})
        assert late.status_code == 409 and "it is cancelled" in late.json()["detail"]

        other = client.post("/v1/runs", json={"question": "Acme memo", "mode": "report"}, headers=alice).json()["id"]
        assert wait_for(client, other, headers=alice)["status"] == "planned"
        cancelled = client.post(f"/v1/runs/{other}/cancel", headers=alice).json()
        assert cancelled["status"] == "cancelled" and cancelled["error"] == "cancelled by the user"

        not_report = client.post(
            "/v1/runs", json={"question": "Acme revenue?", "mode": "agentic", "approve": True}, headers=alice
        )
        assert not_report.status_code == 422 and "approve: only report runs" in not_report.json()["detail"]


@pytest.mark.financebench
def test_a_follow_up_in_the_thread_revises_one_section_and_keeps_the_others(make_client, fake_llm, filings_settings):
    revised = copy.deepcopy(PLAN)
    revised["sections"][1]["questions"] = ["What did 3M pay in dividends in FY2018, and in FY2016 and FY2017 too?"]
    fake_llm.respond_with(ReportModel(failing=None, revised=revised))
    with make_client(filings_settings) as client:
        first = client.post("/v1/runs", json={"question": QUESTION, "mode": "report", "approve": True}).json()
        before = wait_for(client, first["id"])
        assert before["status"] == "answered"
        follow = client.post(
            "/v1/runs",
            json={
                "question": "Revise the shareholder returns: dividends for FY2016 and FY2017 too",
                "thread_id": first["thread_id"],
            },
        )
        assert follow.status_code == 202 and follow.json()["turn"] == 2
        planned = wait_for(client, follow.json()["id"])  # the thread's mode (report); the revised plan waits for approval
        assert planned["mode"] == "report" and planned["status"] == "planned"
        assert planned["plan"]["sections"][1]["questions"] == revised["sections"][1]["questions"]
        assert client.post(f"/v1/runs/{planned['id']}/plan", json={"approve": True}).status_code == 200
        after = wait_for(client, planned["id"])

        assert after["status"] == "answered", after
        events = client.get(f"/v1/runs/{after['id']}/events", params={"format": "json"}).json()
        assert next(e for e in events if e["type"] == "report_plan")["data"]["kept"] == ["Capital expenditures", "Acquisitions"]
        assert [e["data"]["title"] for e in events if e["type"] == "section_started"] == ["Shareholder returns"]
        kept = [e["data"]["title"] for e in events if e["type"] == "section_finished" and e["data"]["status"] == "kept"]
        assert sorted(kept) == ["Acquisitions", "Capital expenditures"]
        old, new = Report.model_validate(before["result"]["report"]), Report.model_validate(after["result"]["report"])
        unmarked = lambda text: re.sub(r"\[\d+\]", "[n]", text)  # noqa: E731  (the sources are numbered again)
        assert unmarked(new.sections[0].text) == unmarked(old.sections[0].text) and new.sections[0].tables
        assert new.sections[2].text == old.sections[2].text
        assert new.sections[1].questions == revised["sections"][1]["questions"]
        result = after["result"]
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", result["text"].split("## Sources")[0])}
        assert markers == set(range(1, len(result["citations"]) + 1)) and all(c["verified"] for c in result["citations"])
