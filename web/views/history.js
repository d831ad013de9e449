// The History page: past runs and ingest jobs, newest first, searchable by question.
import { api } from "../api.js";
import { fmtTime, h, statusBadge, view } from "../dom.js";

export async function historyView() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const q = params.get("q") || "";
  const body = h("tbody");
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
        {},
        h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Mode"), h("th", {}, "Status"), h("th", {}, "Question"))),
        body,
      ),
    ),
  );
  const runs = await api(`/v1/runs?limit=100${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  body.replaceChildren(
    ...runs.data.map((r) =>
      h(
        "tr",
        {},
        h("td", {}, fmtTime(r.created_at)),
        h("td", {}, r.mode === "ingest" ? "ingest job" : r.mode),
        h("td", {}, statusBadge(r.status)),
        h("td", {}, h("a", { href: `#/runs/${r.id}` }, r.question)),
      ),
    ),
  );
  if (!runs.data.length)
    body.replaceChildren(
      h("tr", {}, h("td", { colspan: 4, class: "muted" }, q ? "No run matches." : "No runs yet: ask a question.")),
    );
}
