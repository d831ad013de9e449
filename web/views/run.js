// A research run as a turn of its thread: its answer per arm (agentic, RAG or both), the trace as it streams (collapsible),
// cancel, and votes on a compare. views/thread.js stacks the turns of a thread and asks follow-ups.
import { api, streamEvents } from "../api.js";
import { chartCard } from "../charts.js";
import { epoch, fmtTime, guarded, h, period, statusBadge, ticker, view } from "../dom.js";
import { docsById, loadDocs } from "../state.js";
import { liveTurn, showProgress, traceItem } from "../trace.js";
import { exportMenu } from "./export.js";
import { jobView } from "./job.js";
import { openPage } from "./page.js";
import { reportView } from "./report.js";
import { threadView } from "./thread.js";

function citationChip(c) {
  const d = docsById.get(c.doc_id);
  const label = d ? `${d.company || c.doc_id} · ${d.form_type || ""} · ${period(d)} · p.${c.page}` : `${c.doc_id} · p.${c.page}`;
  const mark = c.verified === true ? "✓ " : c.verified === false ? "✗ " : "";
  const title = [c.quote && `“${c.quote}”`, c.problem].filter(Boolean).join(" — ");
  return h(
    "button",
    {
      type: "button",
      class: `chip ${c.verified === false ? "bad" : c.verified ? "ok" : ""}`,
      title,
      "data-doc": c.doc_id,
      "data-page": c.page,
      onclick: () => openPage(c.doc_id, c.page, c.lines, c.quote || null),
    },
    mark + label,
  );
}

function metricsLine(m) {
  if (!m) return null;
  return h(
    "div",
    { class: "metrics" },
    h("span", {}, `${m.latency_s.toFixed(1)} s`),
    h("span", {}, `${m.llm_calls} LLM calls`),
    h("span", {}, `${m.prompt_tokens.toLocaleString()} + ${m.completion_tokens.toLocaleString()} tokens`),
    h("span", {}, `${m.tool_calls} tool calls`),
    h("span", {}, `${m.pages_read} pages read`),
    m.subagents ? h("span", {}, `${m.subagents} sub-agents`) : null,
  );
}

// A chart the answer carries: its points are cited figures (values already in the chart's unit), each opening its page.
export function answerChart(chart) {
  const points = chart.points.map((p) => ({
    label: p.label,
    value: p.value,
    printed: p.quote ? p.quote.split(" ").pop() : String(p.value),
    doc_id: p.doc_id,
    page: p.page,
    line: null,
    quote: p.quote || String(p.value),
    restated: false,
    first: null,
  }));
  const notes = chart.points.some((p) => p.verified === false)
    ? ["Some points were not found on their cited page (see the warnings)."]
    : [];
  const card = chartCard(
    { h, openPage },
    { title: chart.title, unit: chart.unit, scale: 0, points, notes, kind: chart.kind || "line" },
  );
  card.classList.add("answer-chart");
  return card;
}

function renderAnswer(container, answer) {
  container.replaceChildren(
    ...[
      h("div", {}, statusBadge(answer.status)),
      h("p", { class: "answer-text" }, answer.text),
      (answer.citations || []).length
        ? h("div", { class: "chips", "aria-label": "Citations" }, answer.citations.map(citationChip))
        : h("p", { class: "muted" }, "No citations."),
      (answer.warnings || []).length
        ? h(
            "ul",
            { class: "warnings" },
            answer.warnings.map((w) => h("li", {}, w)),
          )
        : null,
      answer.chart ? answerChart(answer.chart) : null,
      metricsLine(answer.metrics),
    ].filter(Boolean),
  );
}

function renderVotes(container, id) {
  const vote = (winner) =>
    guarded(async () => {
      await api(`/v1/runs/${id}/vote`, { method: "POST", body: { winner } });
      container.replaceChildren(
        h("p", {}, "Thanks, your vote is counted. ", h("a", { href: "#/leaderboard" }, "See the leaderboard")),
      );
    });
  container.replaceChildren(
    h(
      "div",
      { class: "card" },
      h("h2", {}, "Which answer is better?"),
      h(
        "p",
        { class: "row" },
        h("button", { type: "button", onclick: () => vote("agentic") }, "Agentic better"),
        h("button", { type: "button", onclick: () => vote("rag") }, "RAG better"),
        h("button", { type: "button", class: "secondary", onclick: () => vote("tie") }, "Tie"),
      ),
    ),
  );
}

// A research run's page: a run of a thread opens its thread page (views/thread.js); a run without one is shown alone.
export async function runView(id) {
  await loadDocs().catch(() => []);
  const run = await api(`/v1/runs/${id}`);
  if (run.mode === "ingest") return jobView(run);
  if (run.mode === "report") return reportView(run);
  if (run.thread_id) return threadView(run.thread_id, run.id);
  const turn = turnSection(run, { latest: true });
  view.replaceChildren(turn.section);
  await turn.follow();
}

// One run as a turn: its question, status and cancel, an answer and a collapsible trace per arm, and votes on a compare.
// `latest`: the turn carries the page's ids (#run-status, #answer-agentic, #trace-agentic, ...) and its trace is open.
// follow() streams an active run live (or shows a finished one with its stored trace); load() fills a finished turn.
export function turnSection(run, { latest = false, heading = "h1" } = {}) {
  const id = run.id;
  const arms = run.mode === "compare" ? ["agentic", "rag"] : [run.mode];
  const status = h("span", { class: "run-status" });
  const progress = h("span", { class: "run-progress" });
  const cancel = h(
    "button",
    {
      type: "button",
      class: "danger cancel",
      onclick: () =>
        guarded(async () => {
          await api(`/v1/runs/${id}/cancel`, { method: "POST" });
        }),
    },
    "Cancel",
  );
  const columns = {};
  const grid = h(
    "div",
    { class: `arms ${arms.length === 1 ? "single" : ""}` },
    arms.map((arm) => {
      const answer = h("div", { class: `answer answer-${arm}` }, h("p", { class: "muted" }, "The answer appears here."));
      const trace = h("ol", { class: `trace trace-${arm}`, "aria-live": "polite" });
      const box = h("details", { class: "trace-box", open: latest }, h("summary", {}, "Trace"), trace);
      columns[arm] = { answer, trace, box };
      return h(
        "section",
        { class: "card", "aria-label": `${arm} arm` },
        h("h2", {}, arm === "agentic" ? "Agentic" : arm === "rag" ? "RAG" : arm),
        answer,
        box,
      );
    }),
  );
  const votes = h("div", { class: "votes" });
  const exports = exportMenu(id);
  const header = h(
    "div",
    { class: "card turn-head" },
    h(heading, { class: "turn-question" }, run.turn ? h("span", { class: "turn-no" }, `${run.turn}. `) : null, run.question),
    h("p", {}, status, " ", progress, " ", cancel),
    h(
      "p",
      { class: "muted" },
      `${run.mode} · model ${run.model} · ${fmtTime(run.created_at)}${run.filters ? ` · filters ${JSON.stringify(run.filters)}` : ""}`,
    ),
    exports,
  );
  const section = h("section", { class: "turn", "data-run": id, id: run.turn ? `turn-${run.turn}` : null }, header, grid, votes);
  const mark = (on) => {
    const ids = [
      [status, "run-status"],
      [progress, "run-progress"],
      [cancel, "cancel"],
      [votes, "votes"],
      [exports, "export-menu"],
      ...arms.flatMap((arm) => [
        [columns[arm].answer, `answer-${arm}`],
        [columns[arm].trace, `trace-${arm}`],
      ]),
    ];
    for (const [el, name] of ids)
      if (on) el.id = name;
      else el.removeAttribute("id");
    for (const arm of arms) columns[arm].box.open = on; // the newest turn's trace open, earlier ones collapsed
  };
  mark(latest);
  let runningSince = epoch(run.started_at);
  const setStatus = (s, position, ts) => {
    status.replaceChildren(statusBadge(s));
    const active = s === "queued" || s === "running";
    if (s === "running" && ts && !runningSince) runningSince = ts;
    progress.replaceChildren(
      ...(active
        ? [
            h("span", { class: "spinner", "aria-hidden": true }),
            s === "queued" ? ` waiting${position ? ` (position ${position})` : ""}…` : " working · ",
            s === "running" && runningSince ? ticker(runningSince) : "",
          ]
        : []),
    );
    cancel.hidden = !active;
  };
  setStatus(run.status, run.queue_position);
  const live = new Map(); // arm/agent -> the li of its model turn in progress
  const settleTurn = (key) => {
    const li = live.get(key);
    if (li) {
      li.remove();
      live.delete(key);
    }
  };
  let t0 = null;
  const showResult = (done) => {
    setStatus(done.status);
    exports.hidden = false;
    if (done.result) {
      if (done.mode === "compare") {
        renderAnswer(columns.agentic.answer, done.result.agentic);
        renderAnswer(columns.rag.answer, done.result.rag);
      } else if (columns[done.mode]) renderAnswer(columns[done.mode].answer, done.result);
    } else if (done.error) {
      for (const arm of arms) columns[arm].answer.replaceChildren(statusBadge(done.status), h("p", {}, done.error));
    }
    if (done.mode === "compare" && done.result) renderVotes(votes, id);
  };
  const finish = async () => {
    for (const key of [...live.keys()]) settleTurn(key);
    showResult(await api(`/v1/runs/${id}`));
  };
  const seen = new Set();
  const onEvent = (ev) => {
    if (seen.has(ev.seq)) return;
    seen.add(ev.seq);
    if (t0 === null) t0 = ev.ts;
    if (ev.type === "status") setStatus(ev.data.status, ev.data.position, ev.ts);
    const arm = ev.arm && columns[ev.arm] ? ev.arm : arms[0];
    const key = `${arm}/${ev.agent || "main"}`;
    if (ev.type === "model_progress") {
      const li = live.get(key);
      if (li) showProgress(li, ev.data);
      return;
    }
    if (ev.type === "model_turn" || ev.type === "error" || ev.type === "answer" || ev.type === "model_started") settleTurn(key);
    if (ev.type === "status" && !["queued", "running"].includes(ev.data.status)) for (const k of [...live.keys()]) settleTurn(k);
    const targets = ev.arm || ev.type !== "status" ? [arm] : arms;
    for (const a of targets) {
      const item = ev.type === "model_started" ? liveTurn(ev) : traceItem(ev, t0);
      if (ev.type === "model_started") live.set(key, item);
      if (item) {
        columns[a].trace.append(item);
        columns[a].trace.scrollTop = columns[a].trace.scrollHeight;
      }
    }
    if (ev.type === "answer" && columns[arm]) renderAnswer(columns[arm].answer, ev.data);
  };
  let loaded = null;
  const load = () =>
    (loaded ??= (async () => {
      for (const ev of await api(`/v1/runs/${id}/events?format=json`)) if (ev.type !== "model_started") onEvent(ev);
      for (const key of [...live.keys()]) settleTurn(key);
    })());
  const follow = async () => {
    if (["queued", "running"].includes(run.status) || !run.result) {
      loaded = Promise.resolve();
      await streamEvents(id, onEvent);
      await finish();
    } else {
      showResult(run);
      await load();
    }
  };
  for (const arm of arms) columns[arm].box.addEventListener("toggle", () => columns[arm].box.open && guarded(load));
  return { section, follow, load, showResult, mark, run };
}
