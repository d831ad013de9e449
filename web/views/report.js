// A report run: the plan to edit and approve, each section's progress as it is researched, then the memo with its
// numbered sources (each [n] opens its cited page), and the trace.
import { api, streamEvents } from "../api.js";
import { fmtTime, guarded, h, statusBadge, view } from "../dom.js";
import { TRACE_RENDERERS, traceItem } from "../trace.js";
import { openPage } from "./page.js";
import { exportMenu } from "./export.js";
import { answerChart } from "./run.js";

const ACTIVE = ["queued", "running"];

// The report's own events in the trace (the sections' agent steps use the shared renderers).
const RENDERERS = {
  ...TRACE_RENDERERS,
  report_plan: (d, t) =>
    h("li", {}, t, `plan: ${d.plan.title} (${d.plan.sections.length} sections)${d.approved ? " · approved" : ""}`),
  awaiting_approval: (d, t) => h("li", { class: "status-ev" }, t, "waiting for the plan's approval"),
  section_started: (d, t) => h("li", {}, t, `§${d.index} ${d.title}: researching`),
  section_finished: (d, t) =>
    h("li", {}, t, `§${d.index} ${d.title}: ${d.status} (${d.citations} citations)${d.error ? ` — ${d.error}` : ""}`),
  memo_started: (d, t) => h("li", {}, t, `writing the memo from ${d.sections} sections and ${d.citations} sources`),
};

const lines = (text) =>
  text
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);

// The plan as an editable form; `onApprove(plan)` gets the edited plan.
function planEditor(plan, onApprove) {
  const sectionsBox = h("div", { class: "plan-sections" });
  const sectionRow = (s) => {
    const row = h(
      "fieldset",
      { class: "plan-section card" },
      h("label", {}, "Section title", h("input", { name: "title", value: s.title, maxlength: 200, required: true })),
      h("label", {}, "Questions (one per line)", h("textarea", { name: "questions", rows: 3 }, (s.questions || []).join("\n"))),
      h("label", {}, "Filings (doc_ids, comma-separated)", h("input", { name: "filings", value: (s.filings || []).join(", ") })),
      h("button", { type: "button", class: "danger small", onclick: () => row.remove() }, "Remove section"),
    );
    return row;
  };
  sectionsBox.append(...plan.sections.map(sectionRow));
  const title = h("input", { id: "plan-title", value: plan.title, maxlength: 300, required: true });
  const leftOut = h("textarea", { id: "plan-left-out", rows: 2 }, (plan.left_out || []).join("\n"));
  const read = () => ({
    title: title.value.trim(),
    sections: [...sectionsBox.querySelectorAll(".plan-section")].map((f) => ({
      title: f.querySelector("[name=title]").value.trim(),
      questions: lines(f.querySelector("[name=questions]").value),
      filings: f
        .querySelector("[name=filings]")
        .value.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    })),
    left_out: lines(leftOut.value),
  });
  return h(
    "form",
    {
      class: "card",
      id: "plan-form",
      onsubmit: (e) => {
        e.preventDefault();
        onApprove(read(), e.submitter);
      },
    },
    h("h2", {}, "The plan"),
    h("p", { class: "muted" }, "Edit the title, sections, questions and filings; the sections are researched once you approve."),
    h("label", { for: "plan-title" }, "Title"),
    title,
    sectionsBox,
    h(
      "p",
      {},
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () => sectionsBox.append(sectionRow({ title: "", questions: [], filings: [] })),
        },
        "Add section",
      ),
    ),
    h("label", { for: "plan-left-out" }, "Left out (one per line)"),
    leftOut,
    h("p", {}, h("button", { type: "submit", id: "approve-plan" }, "Approve and research")),
  );
}

// Text with [n] markers: each marker a button opening its source's page.
function cited(text, citations, tag = "p") {
  return lines(text).map((line) =>
    h(
      tag,
      {},
      ...line.split(/(\[\d+\])/).map((part) => {
        const m = part.match(/^\[(\d+)\]$/);
        const c = m && citations[Number(m[1]) - 1];
        if (!c) return part;
        return h(
          "button",
          {
            type: "button",
            class: `cite ${c.verified === false ? "bad" : ""}`,
            title: `${c.doc_id} p.${c.page}${c.quote ? ` — “${c.quote}”` : ""}`,
            onclick: () => openPage(c.doc_id, c.page, c.lines, c.quote || null),
          },
          m[1],
        );
      }),
    ),
  );
}

function memo(answer) {
  const r = answer.report;
  const cites = answer.citations || [];
  const body = [
    h("div", {}, statusBadge(answer.status)),
    h("h2", {}, r.title),
    h("h3", {}, "Executive summary"),
    ...cited(r.summary, cites),
  ];
  for (const s of r.sections) {
    body.push(h("h3", {}, s.title, " ", statusBadge(s.status)), ...cited(s.text, cites));
    for (const t of s.tables)
      body.push(
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "report-table" },
            h("caption", {}, t.title),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                t.columns.map((c) => h("th", {}, c)),
              ),
            ),
            h(
              "tbody",
              {},
              t.rows.map((row) =>
                h(
                  "tr",
                  {},
                  row.map((cell) => h("td", {}, ...cited(cell, cites, "span"))),
                ),
              ),
            ),
          ),
        ),
      );
    if (s.chart) body.push(answerChart(s.chart));
  }
  if (r.not_found.length)
    body.push(
      h("h3", {}, "What was checked and not found"),
      h(
        "ul",
        {},
        r.not_found.map((x) => h("li", {}, x)),
      ),
    );
  body.push(
    h("h3", {}, "Sources"),
    h(
      "ol",
      { class: "sources" },
      cites.map((c) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "link", onclick: () => openPage(c.doc_id, c.page, c.lines, c.quote || null) },
            `${c.verified === true ? "✓" : c.verified === false ? "✗" : "·"} ${c.doc_id} p.${c.page}`,
          ),
          c.quote ? ` “${c.quote}”` : "",
        ),
      ),
    ),
  );
  if ((answer.warnings || []).length)
    body.push(
      h(
        "ul",
        { class: "warnings" },
        answer.warnings.map((w) => h("li", {}, w)),
      ),
    );
  return body;
}

// A follow-up in the report's thread: the next turn revises the section the request names (the others are kept).
function reviseForm(run) {
  return h(
    "form",
    {
      class: "card",
      id: "revise-form",
      onsubmit: (e) => {
        e.preventDefault();
        const question = new FormData(e.target).get("revise");
        guarded(async () => {
          const next = await api("/v1/runs", { method: "POST", body: { question, thread_id: run.thread_id } });
          location.hash = `#/runs/${next.id}`;
        });
      },
    },
    h("label", { for: "revise" }, "Revise a section"),
    h("textarea", {
      id: "revise",
      name: "revise",
      required: true,
      maxlength: 4000,
      rows: 2,
      placeholder: "e.g. Revise the shareholder returns section: add FY2016 and FY2017",
    }),
    h("p", {}, h("button", { type: "submit" }, "Plan the revision")),
  );
}

export async function reportView(run) {
  const id = run.id;
  const status = h("span", { id: "run-status" });
  const cancel = h(
    "button",
    {
      type: "button",
      class: "danger",
      id: "cancel",
      onclick: () => guarded(() => api(`/v1/runs/${id}/cancel`, { method: "POST" })),
    },
    "Cancel",
  );
  const planBox = h("div", { id: "plan" });
  const sections = h("ol", { class: "report-sections", id: "report-sections", "aria-live": "polite" });
  const memoBox = h(
    "section",
    { class: "card", id: "memo", "aria-label": "Memo" },
    h("p", { class: "muted" }, "The memo appears here."),
  );
  const trace = h("ol", { class: "trace", id: "trace-report" });
  const exports = exportMenu(id); // shown once the memo is written: Markdown, Word, PDF, the evidence pack
  exports.id = "export-menu";
  view.replaceChildren(
    h(
      "div",
      { class: "card" },
      h("h1", {}, run.question),
      h("p", {}, status, " ", cancel),
      h("p", { class: "muted" }, `report · model ${run.model} · ${fmtTime(run.created_at)}`),
      exports,
    ),
    planBox,
    h("section", { class: "card" }, h("h2", {}, "Sections"), sections),
    memoBox,
    h("section", { class: "card" }, h("details", {}, h("summary", {}, "Trace"), trace)),
  );
  const setStatus = (s) => {
    status.replaceChildren(statusBadge(s));
    cancel.hidden = !(ACTIVE.includes(s) || s === "planned");
  };
  const rows = new Map();
  const sectionRow = (d) => {
    if (!rows.has(d.index)) rows.set(d.index, sections.appendChild(h("li", { "data-index": d.index })));
    rows
      .get(d.index)
      .replaceChildren(
        h("strong", {}, d.title),
        " ",
        statusBadge(d.status),
        d.error ? h("span", { class: "muted" }, ` ${d.error}`) : "",
      );
  };
  const showPlan = (plan, waiting) => {
    if (!waiting) {
      planBox.replaceChildren();
      plan.sections.forEach((s, i) => rows.has(i + 1) || sectionRow({ index: i + 1, title: s.title, status: "queued" }));
      return;
    }
    planBox.replaceChildren(
      planEditor(plan, (edited, button) =>
        guarded(async () => {
          if (button) button.disabled = true;
          try {
            await api(`/v1/runs/${id}/plan`, { method: "POST", body: { plan: edited, approve: true } });
          } finally {
            if (button) button.disabled = false;
          }
          showPlan(edited, false);
          setStatus("queued");
          await follow();
        }),
      ),
    );
  };
  let t0 = null;
  let last = 0;
  const onEvent = (ev) => {
    if (ev.seq <= last) return;
    last = ev.seq;
    if (t0 === null) t0 = ev.ts;
    if (ev.type === "status") setStatus(ev.data.status);
    if (ev.type === "report_plan" && ev.data.approved) showPlan(ev.data.plan, false);
    if (ev.type === "section_started") sectionRow({ ...ev.data, status: "running" });
    if (ev.type === "section_finished") sectionRow(ev.data);
    if (ev.type === "answer" && ev.data.report) memoBox.replaceChildren(...memo(ev.data));
    const item = ev.type === "model_started" ? null : traceItem(ev, t0, RENDERERS);
    if (item) trace.append(item);
  };
  const follow = async () => {
    await streamEvents(id, onEvent, last);
    const done = await api(`/v1/runs/${id}`);
    setStatus(done.status);
    if (done.status === "planned") showPlan(done.plan, true);
    else if (done.result && done.result.report) {
      memoBox.replaceChildren(...memo(done.result));
      exports.hidden = false;
      if (done.thread_id) memoBox.after(reviseForm(done));
    } else if (done.error) memoBox.replaceChildren(statusBadge(done.status), h("p", {}, done.error));
  };
  setStatus(run.status);
  await follow();
}
