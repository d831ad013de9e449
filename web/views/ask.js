// The Ask page: a question (a new research thread), its mode and filters; a notice when the embedded model answers; how long runs take.
import { api, headers } from "../api.js";
import { $, banner, fmtDuration, guarded, h, view } from "../dom.js";
import { loadDocs } from "../state.js";

export async function askView() {
  const docs = await loadDocs().catch((err) => {
    banner(err.message);
    return [];
  });
  const companies = [...new Set(docs.map((d) => d.company).filter(Boolean))].sort();
  const forms = [...new Set(docs.map((d) => d.form_type).filter(Boolean))].sort();
  const years = [...new Set(docs.map((d) => d.fiscal_year).filter(Boolean))].sort((a, b) => b - a);
  const notice = h("p", { class: "notice", id: "model-notice", hidden: true });
  const form = h(
    "form",
    {
      class: "card",
      id: "ask-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        const filters = {};
        if (f.get("company")) filters.company = f.get("company");
        if (f.get("form")) filters.form = f.get("form");
        if (f.get("year")) filters.year = Number(f.get("year"));
        const submit = $("button[type=submit]", e.target);
        submit.disabled = true;
        await guarded(async () => {
          const run = await api("/v1/runs", {
            method: "POST",
            body: { question: f.get("question"), mode: f.get("mode"), filters: Object.keys(filters).length ? filters : null },
          });
          location.hash = `#/runs/${run.id}`;
        });
        submit.disabled = false;
      },
    },
    h("label", { for: "question" }, "Question"),
    h("textarea", {
      id: "question",
      name: "question",
      required: true,
      maxlength: 4000,
      placeholder: "e.g. What is the FY2018 capital expenditure amount (in USD millions) for 3M?",
    }),
    h(
      "fieldset",
      {},
      h("legend", { class: "muted" }, "Mode"),
      ...[
        ["agentic", "Agentic (the research agent)"],
        ["rag", "RAG (retrieve, then answer)"],
        ["compare", "Compare both"],
        ["report", "Report (a planned memo you approve first)"],
      ].map(([v, text], i) => h("label", {}, h("input", { type: "radio", name: "mode", value: v, checked: i === 0 }), text)),
    ),
    h(
      "div",
      { class: "row" },
      h(
        "div",
        {},
        h("label", { for: "f-company" }, "Company"),
        h("input", { id: "f-company", name: "company", list: "companies", placeholder: "any" }),
        h(
          "datalist",
          { id: "companies" },
          companies.map((c) => h("option", { value: c })),
        ),
      ),
      h(
        "div",
        {},
        h("label", { for: "f-form" }, "Form"),
        h(
          "select",
          { id: "f-form", name: "form" },
          h("option", { value: "" }, "any"),
          forms.map((x) => h("option", { value: x }, x)),
        ),
      ),
      h(
        "div",
        {},
        h("label", { for: "f-year" }, "Fiscal year"),
        h(
          "select",
          { id: "f-year", name: "year" },
          h("option", { value: "" }, "any"),
          years.map((y) => h("option", { value: y }, y)),
        ),
      ),
    ),
    h("p", {}, h("button", { type: "submit" }, "Ask")),
    notice,
    h(
      "p",
      { class: "muted" },
      `${docs.length} filings in the catalog. Each question starts a new research thread: ask follow-ups under its answer.`,
    ),
  );
  view.replaceChildren(h("h1", {}, "Ask"), form);
  $("#question").focus();
  const typical = h("p", { class: "muted", id: "typical-time" });
  notice.after(typical);
  fetch("/readyz", { headers: headers() })
    .then((r) => r.json())
    .then((ready) => {
      const llm = ready.checks && ready.checks.llm;
      if (llm && llm.embedded) {
        notice.hidden = false;
        notice.textContent =
          "The embedded model is answering: it is for trying Sleuth and is slow and often wrong. Real answers need a real model on vLLM (SLEUTH_LLM_BASE_URL).";
      }
      if (llm && llm.configured === false) {
        notice.hidden = false;
        notice.textContent = llm.error;
      } else if (llm && !llm.ok) banner(`The model endpoint is not reachable (${llm.error}); runs will fail until it is.`);
      else if (llm && llm.server && llm.server.last_crash) {
        const { last_crash: crash, restarts, log } = llm.server;
        const when = new Date(crash.at * 1000).toLocaleTimeString();
        const times = `${restarts} restart${restarts === 1 ? "" : "s"} so far`;
        banner(
          `The embedded model server ${crash.reason} at ${when} and was restarted (${times}); runs in flight then failed. Its log: ${log}`,
          "info",
        );
      }
      if (llm && llm.model) showTypicalTime(typical, llm.model).catch(() => {});
    })
    .catch(() => {});
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

// How long runs on this model took so far, per mode (median of the finished ones among the last 200).
async function showTypicalTime(target, model) {
  const runs = await api("/v1/runs?limit=200");
  const finished = runs.data.filter(
    (r) => r.model === model && r.mode !== "ingest" && r.latency_s && ["answered", "unsure", "truncated"].includes(r.status),
  );
  const names = { agentic: "agentic", rag: "RAG", compare: "compare" };
  const parts = Object.keys(names)
    .map((mode) => {
      const times = finished.filter((r) => r.mode === mode).map((r) => r.latency_s);
      return times.length
        ? `${names[mode]} ${fmtDuration(median(times))} (${times.length} run${times.length === 1 ? "" : "s"})`
        : null;
    })
    .filter(Boolean);
  target.textContent = parts.length
    ? `On ${model}, a run typically takes: ${parts.join(" · ")}.`
    : `No finished runs on ${model} yet to say how long one takes.`;
}
