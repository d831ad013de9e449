// An ingest job's stages, each with its time (upload, queue, extraction, index), fed by the job's events.
import { fmtDuration, h, ticker } from "./dom.js";

export function stageList(id) {
  const list = h("ol", { class: "stages", id });
  let current = null;
  const end = (ts, failed = false) => {
    if (!current) return;
    current.timer.removeAttribute("data-since");
    current.timer.textContent = fmtDuration(ts - current.ts);
    current.li.className = failed ? "failed" : "done";
    current.mark.replaceWith(h("span", { class: "mark", "aria-hidden": true }, failed ? "✗" : "✓"));
    current = null;
  };
  const begin = (key, label, ts) => {
    if (current && current.key === key) {
      current.label.textContent = label;
      return;
    }
    end(ts);
    const mark = h("span", { class: "spinner", "aria-hidden": true });
    const text = h("span", {}, label);
    const timer = ticker(ts);
    const li = h("li", { class: "active", "data-stage": key }, mark, " ", text, " · ", timer);
    current = { key, li, label: text, timer, mark, ts };
    list.append(li);
  };
  return { list, begin, end, active: () => current && current.key };
}

// Feeds an ingest job's events into its stage list (and the per-file log).
export function ingestEvents(stages, log, total) {
  return (ev) => {
    const d = ev.data;
    if (ev.type === "status" && d.status === "queued") stages.begin("queued", "Waiting for the ingest queue", ev.ts);
    else if (ev.type === "status" && d.status === "running")
      stages.begin("ingest", `Extracting text and sections: 0 of ${total || "?"} files`, ev.ts);
    else if (ev.type === "ingest_progress") {
      stages.begin("ingest", `Extracting text and sections: ${d.done} of ${d.total} files`, ev.ts);
      log.append(
        h(
          "li",
          { class: d.status === "failed" ? "err" : "" },
          `${d.file}: ${d.status}${d.reason ? ` — ${d.reason}` : ""} (${d.done}/${d.total})`,
        ),
      );
    } else if (ev.type === "index" && d.status === "updating")
      stages.begin("index", "Updating the search index (BM25 over every filing: up to a minute)", ev.ts);
    else if (ev.type === "index" && d.status === "ready") stages.end(ev.ts);
    else if (ev.type === "status") stages.end(ev.ts, d.status !== "done");
  };
}
