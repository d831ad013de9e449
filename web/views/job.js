// An ingest job (uploads, EDGAR fetches): each stage with its time, the per-file log, then the files' outcome.
import { api, streamEvents } from "../api.js";
import { $, fmtDuration, fmtTime, h, statusBadge, view } from "../dom.js";
import { ingestEvents, stageList } from "../stages.js";

function jobResult(container, job) {
  const files = (job.result && job.result.files) || [];
  container.replaceChildren(
    h("p", { role: "status" }, job.status === "done" ? `Ingested: ${job.result.summary}` : `Failed: ${job.error || job.status}`),
    files.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "files" },
            h(
              "thead",
              {},
              h("tr", {}, h("th", {}, "File"), h("th", {}, "Result"), h("th", {}, "Document"), h("th", {}, "Pages")),
            ),
            h(
              "tbody",
              {},
              files.map((f) =>
                h(
                  "tr",
                  {},
                  h("td", {}, f.file),
                  h("td", {}, f.status + (f.reason ? ` — ${f.reason}` : "")),
                  h("td", {}, f.doc_id ? h("a", { href: `#/documents/${encodeURIComponent(f.doc_id)}` }, f.doc_id) : ""),
                  h("td", {}, f.pages ?? ""),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}

export async function jobView(run) {
  const stages = stageList("job-stages");
  const log = h("ol", { class: "trace", id: "job-log" });
  const result = h("div", { id: "job-result" });
  view.replaceChildren(
    h(
      "div",
      { class: "card" },
      h("h1", {}, run.question),
      h("p", {}, statusBadge(run.status)),
      h(
        "p",
        { class: "muted" },
        `ingest job · ${fmtTime(run.created_at)}${run.latency_s ? ` · ${fmtDuration(run.latency_s)}` : ""}`,
      ),
    ),
    h("section", { class: "card" }, h("h2", {}, "Stages"), stages.list, h("h3", {}, "Files"), log, result),
  );
  await streamEvents(run.id, ingestEvents(stages, log, null));
  const done = await api(`/v1/runs/${run.id}`);
  $(".card .status", view).replaceWith(statusBadge(done.status));
  jobResult(result, done);
}
