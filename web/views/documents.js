// The Documents page: the catalog's filings (filter, sort, delete), upload with its stages, and the EDGAR fetch card.
import { api, serverNow, streamEvents } from "../api.js";
import { $, fmtDuration, guarded, h, period, view } from "../dom.js";
import { coverage, docsById, loadDocs } from "../state.js";
import { ingestEvents, stageList } from "../stages.js";
import { edgarFetchCard } from "./edgar.js";

export async function documentsView() {
  docsById.clear();
  let docs = await loadDocs();
  let sortKey = "doc_id",
    ascending = true;
  const filters = { company: "", form: "", year: "" };
  const body = h("tbody");
  const note = h("p", { id: "doc-status", role: "status", class: "muted" });
  const say = (text, kind = "info") => {
    note.textContent = text;
    note.className = kind === "error" ? "problem" : "muted";
    note.setAttribute("role", kind === "error" ? "alert" : "status");
  };
  const remove = (d) =>
    guarded(async () => {
      if (
        !confirm(
          `Delete ${d.doc_id} (${d.company || "?"} ${d.form_type || ""} ${period(d)}) from the catalog, the text store and the search index?`,
        )
      )
        return;
      try {
        await api(`/v1/documents/${encodeURIComponent(d.doc_id)}`, { method: "DELETE" });
      } catch (err) {
        say(`Could not delete ${d.doc_id}: ${err.message}`, "error");
        return;
      }
      docs = docs.filter((x) => x.doc_id !== d.doc_id);
      docsById.delete(d.doc_id);
      draw();
      say(`Deleted ${d.doc_id}; the search index drops it in the background (seconds to a minute).`);
    });
  const columns = [
    ["doc_id", "Document"],
    ["company", "Company"],
    ["form_type", "Form"],
    ["fiscal_year", "Period"],
    ["pages", "Pages"],
  ];
  const ths = columns.map(([key, text]) =>
    h(
      "th",
      { "data-key": key },
      h(
        "button",
        {
          type: "button",
          onclick: () => {
            ascending = sortKey === key ? !ascending : true;
            sortKey = key;
            draw();
          },
        },
        text,
        h("span", { class: "arrow", "aria-hidden": true }),
      ),
    ),
  );
  const draw = () => {
    const rows = docs
      .filter(
        (d) =>
          (!filters.company ||
            `${d.company} ${d.ticker || ""} ${d.doc_id}`.toLowerCase().includes(filters.company.toLowerCase())) &&
          (!filters.form || d.form_type === filters.form) &&
          (!filters.year || String(d.fiscal_year) === filters.year),
      )
      .sort((a, b) => {
        const x = a[sortKey] ?? "",
          y = b[sortKey] ?? "";
        return (x > y ? 1 : x < y ? -1 : 0) * (ascending ? 1 : -1);
      });
    body.replaceChildren(
      ...rows.map((d) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: `#/documents/${encodeURIComponent(d.doc_id)}` }, d.doc_id)),
          h(
            "td",
            {},
            d.company
              ? h(
                  "a",
                  { href: `#/companies/${encodeURIComponent(d.company)}`, title: `${d.company}: line items through time` },
                  d.company,
                )
              : "",
          ),
          h("td", {}, d.form_type || ""),
          h("td", {}, period(d)),
          h("td", {}, d.pages),
          h(
            "td",
            {},
            h(
              "button",
              { type: "button", class: "danger small", "aria-label": `Delete ${d.doc_id}`, onclick: () => remove(d) },
              "Delete",
            ),
          ),
        ),
      ),
    );
    for (const th of ths) {
      const on = th.dataset.key === sortKey;
      th.setAttribute("aria-sort", on ? (ascending ? "ascending" : "descending") : "none");
      $(".arrow", th).textContent = on ? (ascending ? " ▲" : " ▼") : "";
    }
    $("#doc-count").textContent = `${rows.length} of ${docs.length} filings`;
  };
  const refresh = async () => {
    docsById.clear();
    docs = await loadDocs();
    draw();
  };
  const forms = [...new Set(docs.map((d) => d.form_type).filter(Boolean))].sort();
  const years = [...new Set(docs.map((d) => d.fiscal_year).filter(Boolean))].sort((a, b) => b - a);
  const bar = h("div", { class: "progress", hidden: true }, h("div"));
  const stages = h("div", { id: "upload-stages" });
  const log = h("ol", { class: "trace", id: "upload-log" });
  const outcome = h("div", { id: "upload-status", role: "status", "aria-live": "polite" });
  const upload = h(
    "form",
    {
      class: "card",
      id: "upload-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const submit = $("button[type=submit]", e.target);
        submit.disabled = true;
        try {
          await guarded(() => uploadFiles(e.target, { bar, stages, log, outcome, refresh }));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h2", {}, "Upload filings"),
    h("label", { for: "files" }, "PDF, HTML, TXT or MD files"),
    h("input", { id: "files", name: "files", type: "file", multiple: true, accept: ".pdf,.htm,.html,.txt,.md", required: true }),
    h(
      "p",
      {},
      h("input", { id: "replace", name: "replace", type: "checkbox" }),
      " ",
      h("label", { for: "replace" }, "Replace filings that are already in the catalog under the same name"),
    ),
    h("p", {}, h("button", { type: "submit" }, "Upload and ingest")),
    bar,
    stages,
    outcome,
    log,
  );
  view.replaceChildren(
    h("h1", {}, "Documents"),
    upload,
    h(
      "div",
      { class: "card row" },
      h(
        "div",
        {},
        h("label", { for: "d-company" }, "Company"),
        h("input", {
          id: "d-company",
          type: "search",
          oninput: (e) => {
            filters.company = e.target.value;
            draw();
          },
        }),
      ),
      h(
        "div",
        {},
        h("label", { for: "d-form" }, "Form"),
        h(
          "select",
          {
            id: "d-form",
            onchange: (e) => {
              filters.form = e.target.value;
              draw();
            },
          },
          h("option", { value: "" }, "any"),
          forms.map((f) => h("option", { value: f }, f)),
        ),
      ),
      h(
        "div",
        {},
        h("label", { for: "d-year" }, "Fiscal year"),
        h(
          "select",
          {
            id: "d-year",
            onchange: (e) => {
              filters.year = e.target.value;
              draw();
            },
          },
          h("option", { value: "" }, "any"),
          years.map((y) => h("option", { value: y }, y)),
        ),
      ),
    ),
    h("p", { id: "doc-count", class: "muted" }),
    h("p", { id: "dense-coverage", class: "muted" }, coverage.dense ? coverage.dense.line : ""),
    note,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "documents" },
        h("thead", {}, h("tr", {}, ...ths, h("th", {}, h("span", { class: "visually-hidden" }, "Actions")))),
        body,
      ),
    ),
  );
  draw();
  upload.after(
    edgarFetchCard({
      refresh: async () => {
        docsById.clear();
        docs.splice(0, docs.length, ...(await loadDocs()));
        draw();
      },
    }),
  );
}

// Upload, then follow the ingest job stage by stage; the outcome is shown in the upload card, where the user is looking.
async function uploadFiles(form, { bar, stages: holder, log, outcome, refresh }) {
  const files = [...$("#files", form).files];
  const data = new FormData();
  for (const file of files) data.append("files", file);
  log.replaceChildren();
  outcome.replaceChildren();
  const stages = stageList("stage-list");
  holder.replaceChildren(stages.list);
  const replace = $("#replace", form).checked ? "?replace=true" : "";
  const fill = $("div", bar);
  bar.hidden = false;
  fill.style.width = "0%";
  const began = serverNow();
  const size = files.reduce((n, f) => n + f.size, 0);
  const amount = size >= 1 << 20 ? `${(size / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(size / 1024)} KB`;
  stages.begin("upload", `Uploading ${files.length} file${files.length === 1 ? "" : "s"} (${amount})`, began);
  let job;
  try {
    job = await api(`/v1/documents${replace}`, { method: "POST", form: data });
  } catch (err) {
    stages.end(serverNow(), true);
    bar.hidden = true;
    outcome.replaceChildren(h("p", { class: "problem", role: "alert" }, `Upload refused: ${err.message}`));
    return;
  }
  stages.end(serverNow());
  const feed = ingestEvents(stages, log, files.length);
  await streamEvents(job.id, (ev) => {
    feed(ev);
    if (ev.type === "ingest_progress") fill.style.width = `${Math.round((90 * ev.data.done) / ev.data.total)}%`; // the index update is the last 10%
    if (ev.type === "index" && ev.data.status === "ready") fill.style.width = "100%";
  });
  const done = await api(`/v1/runs/${job.id}`);
  fill.style.width = "100%";
  const took = fmtDuration(serverNow() - began);
  const added = ((done.result && done.result.files) || []).filter((f) => f.doc_id && f.status !== "failed").map((f) => f.doc_id);
  const where = added.length ? `; ${added.join(", ")} ${added.length === 1 ? "is" : "are"} in the table below` : "";
  outcome.replaceChildren(
    done.status === "done"
      ? h(
          "p",
          { class: "ok" },
          `Ingested in ${took}: ${done.result.summary}. The search index is updated${where}. `,
          h("a", { href: `#/runs/${job.id}` }, "Job details"),
        )
      : h(
          "p",
          { class: "problem", role: "alert" },
          `Upload failed after ${took}: ${done.error || done.status}. `,
          h("a", { href: `#/runs/${job.id}` }, "Job details"),
        ),
  );
  outcome.scrollIntoView({ block: "nearest" });
  if (done.status === "done") await refresh();
}
