// The Documents page's "Fetch from SEC EDGAR" card: POST /v1/documents/fetch, then the job's events as they arrive.
// The Documents page hands in a refresh of its table.
import { api, streamEvents } from "../api.js";
import { h } from "../dom.js";
import { TRACE_RENDERERS, traceItem } from "../trace.js";

const FORMS = ["10-K", "10-Q", "8-K"];

// A fetch job's events: its own (company, plan, downloads), then those of the ingest job it runs.
const FETCH_RENDERERS = {
  ...TRACE_RENDERERS,
  fetch_company: (d, t) => h("li", {}, t, `${d.name} (CIK ${d.cik}${d.ticker ? `, ${d.ticker}` : ""})`),
  fetch_plan: (d, t) =>
    h(
      "li",
      {},
      t,
      `${d.selected} filings on EDGAR, ${d.skipped} already in the catalog, ${d.todo} to fetch`,
      ...d.notes.map((n) => h("div", { class: "muted" }, `note: ${n}`)),
    ),
  fetch_downloaded: (d, t) => h("li", {}, t, `downloaded ${d.form} ${d.accession}: ${d.files.join(", ")} (${d.done}/${d.total})`),
};

export function edgarFetchCard({ refresh }) {
  const bar = h("div", { class: "progress", hidden: true }, h("div"));
  const log = h("ol", { class: "trace", id: "fetch-log" });
  const result = h("p", { id: "fetch-result", role: "status", hidden: true });
  const button = h("button", { type: "submit" }, "Fetch and ingest");
  const say = (text, kind) => {
    result.textContent = text;
    result.className = kind === "error" ? "error-text" : "muted";
    result.hidden = false;
  };

  async function run(form) {
    const f = new FormData(form);
    const forms = f.getAll("forms");
    if (!forms.length) {
      say("Pick at least one form.", "error");
      return;
    }
    const body = { company: String(f.get("company")).trim(), forms };
    if (String(f.get("years") || "").trim()) body.years = String(f.get("years")).trim();
    log.replaceChildren();
    bar.hidden = true;
    const job = await api("/v1/documents/fetch", { method: "POST", body });
    say(`Fetching ${body.company.toUpperCase()} from EDGAR…`);
    bar.hidden = false;
    const fill = bar.firstChild;
    fill.style.width = "0%";
    let t0 = null;
    await streamEvents(job.id, (ev) => {
      if (t0 === null) t0 = ev.ts;
      if (ev.type === "ingest_progress") fill.style.width = `${Math.round((100 * ev.data.done) / ev.data.total)}%`;
      const item = traceItem(ev, t0, FETCH_RENDERERS);
      if (item) {
        log.append(item);
        log.scrollTop = log.scrollHeight;
      }
    });
    const done = await api(`/v1/runs/${job.id}`);
    fill.style.width = "100%";
    if (done.status === "done") {
      say(`Fetched: ${done.result.summary}${done.error ? `. Not fetched: ${done.error}` : ""}`, done.error ? "error" : "info");
      await refresh();
    } else {
      say(`Fetch failed: ${done.error}`, "error");
    }
  }

  return h(
    "form",
    {
      class: "card",
      id: "fetch-form",
      onsubmit: async (e) => {
        e.preventDefault();
        button.disabled = true;
        try {
          await run(e.target);
        } catch (err) {
          say(err.message || String(err), "error");
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h2", {}, "Fetch filings from SEC EDGAR"),
    h(
      "div",
      { class: "row" },
      h(
        "div",
        {},
        h("label", { for: "fetch-company" }, "Ticker or CIK"),
        h("input", {
          id: "fetch-company",
          name: "company",
          required: true,
          maxlength: 20,
          placeholder: "AMZN",
          autocomplete: "off",
        }),
      ),
      h(
        "div",
        {},
        h("label", { for: "fetch-years" }, "Years (period of report)"),
        h("input", {
          id: "fetch-years",
          name: "years",
          maxlength: 9,
          placeholder: "2021-2024 (default: last three)",
          pattern: "\\d{4}(-\\d{4})?",
        }),
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Forms"),
      FORMS.map((form) =>
        h("label", {}, h("input", { type: "checkbox", name: "forms", value: form, checked: form !== "8-K" }), form),
      ),
    ),
    h(
      "p",
      { class: "muted" },
      "8-K earnings releases bring their EX-99.1. Filings already in the catalog are skipped; an interrupted fetch resumes.",
    ),
    h("p", {}, button),
    bar,
    result,
    log,
  );
}
