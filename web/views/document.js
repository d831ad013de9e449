// One filing: what it is, and its outline; each section opens its first page.
import { api } from "../api.js";
import { h, period, view } from "../dom.js";
import { loadDocs } from "../state.js";
import { openPage } from "./page.js";

export async function documentView(docId) {
  await loadDocs();
  const d = await api(`/v1/documents/${encodeURIComponent(docId)}`);
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/documents" }, "← all documents")),
    h(
      "div",
      { class: "card" },
      h("h1", {}, d.doc_id),
      h(
        "p",
        {},
        d.company ? h("a", { href: `#/companies/${encodeURIComponent(d.company)}` }, d.company) : "",
        ` · ${d.form_type || ""} · ${period(d)} · ${d.pages} pages · ~${d.tokens.toLocaleString()} tokens`,
      ),
      h("p", {}, h("button", { type: "button", onclick: () => openPage(d.doc_id, 1) }, "Read from page 1")),
      d.company
        ? h(
            "p",
            {},
            h(
              "a",
              { href: `#/redline/${encodeURIComponent(d.company)}?b=${encodeURIComponent(d.doc_id)}`, id: "redline-link" },
              "Redline against an earlier filing →",
            ),
          )
        : "",
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Outline"),
      d.sections.length
        ? h(
            "ul",
            { class: "outline" },
            d.sections.map((s) =>
              h(
                "li",
                { style: `padding-left:${s.depth * 1.2}rem` },
                h(
                  "button",
                  { type: "button", class: "link", onclick: () => openPage(d.doc_id, s.start_page) },
                  `${s.key}: ${s.title}`,
                ),
                h("span", { class: "muted" }, ` p.${s.start_page}–${s.end_page}`),
              ),
            ),
          )
        : h("p", { class: "muted" }, "No sections were detected in this filing; read it by page."),
    ),
  );
}
