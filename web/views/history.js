// The History page: research threads (newest activity first) and upload jobs, searchable by question.
import { api } from "../api.js";
import { fmtTime, h, statusBadge, view } from "../dom.js";

export async function historyView() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const q = params.get("q") || "";
  const body = h("tbody");
  const jobs = h("tbody");
  const jobsBox = h(
    "section",
    { id: "jobs", hidden: true },
    h("h2", {}, "Upload jobs"),
    h(
      "div",
      { class: "table-wrap" },
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Status"), h("th", {}, "Job"))), jobs),
    ),
  );
  const search = h(
    "form",
    {
      role: "search",
      class: "card row",
      onsubmit: (e) => {
        e.preventDefault();
        location.hash = `#/history?q=${encodeURIComponent(new FormData(e.target).get("q"))}`;
      },
    },
    h(
      "div",
      {},
      h("label", { for: "history-q" }, "Search questions"),
      h("input", { id: "history-q", name: "q", value: q, type: "search" }),
    ),
    h("div", {}, h("label", {}, " "), h("button", { type: "submit" }, "Search")),
  );
  view.replaceChildren(
    h("h1", {}, "History"),
    search,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "threads" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, "Updated"),
            h("th", {}, "Turns"),
            h("th", {}, "Mode"),
            h("th", {}, "Status"),
            h("th", {}, "Thread"),
          ),
        ),
        body,
      ),
    ),
    jobsBox,
  );
  const filter = q ? `&q=${encodeURIComponent(q)}` : "";
  const [threads, ingests] = await Promise.all([
    api(`/v1/threads?limit=100${filter}`),
    api(`/v1/runs?limit=50&mode=ingest${filter}`),
  ]);
  body.replaceChildren(
    ...threads.data.map((t) =>
      h(
        "tr",
        {},
        h("td", {}, fmtTime(t.updated_at)),
        h("td", {}, String(t.turns)),
        h("td", {}, t.mode || ""),
        h("td", {}, t.last_status ? statusBadge(t.last_status) : ""),
        h(
          "td",
          {},
          h("a", { href: `#/threads/${t.id}` }, t.title),
          t.turns > 1 && t.last_question ? h("div", { class: "muted" }, `latest: ${t.last_question}`) : null,
        ),
      ),
    ),
  );
  if (!threads.data.length)
    body.replaceChildren(
      h("tr", {}, h("td", { colspan: 5, class: "muted" }, q ? "No thread matches." : "No threads yet: ask a question.")),
    );
  jobs.replaceChildren(
    ...ingests.data.map((r) =>
      h(
        "tr",
        {},
        h("td", {}, fmtTime(r.created_at)),
        h("td", {}, statusBadge(r.status)),
        h("td", {}, h("a", { href: `#/runs/${r.id}` }, r.question), " ", h("span", { class: "muted" }, "ingest job")),
      ),
    ),
  );
  jobsBox.hidden = !ingests.data.length;
}
