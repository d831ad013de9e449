// The redline view (#/redline/COMPANY?a=DOC&b=DOC&section=KEY&show=KIND): one section of two filings of a company,
// paragraph by paragraph — added, removed and changed (words struck and inserted), each opening its page in both filings.
// Every change comes from GET /v1/documents/{a}/redline/{b}.
import { api } from "../api.js";
import { h, period, view } from "../dom.js";
import { loadDocs } from "../state.js";
import { openPage } from "./page.js";

const PAGE_SIZE = 50;
const KINDS = ["all", "added", "removed", "changed"];

const label = (d) => `${d.doc_id} · ${d.form_type || "?"} · ${period(d)}`;
const when = (d) => d.period_end_date || `${d.fiscal_year || 0}`;

function params() {
  const query = location.hash.split("?")[1] || "";
  return Object.fromEntries(new URLSearchParams(query));
}

// The filing before `b` of the same form, else the one before it in time, else the newest other one.
function defaultPair(filings, b) {
  const later = b ? filings.find((d) => d.doc_id === b) : [...filings].reverse().find((d) => d.form_type === "10-K");
  const chosenB = later || filings[filings.length - 1];
  const earlier = filings.filter((d) => d !== chosenB && when(d) <= when(chosenB));
  const sameForm = earlier.filter((d) => d.form_type === chosenB.form_type);
  const chosenA = sameForm.pop() || earlier.pop() || filings.find((d) => d !== chosenB);
  return [chosenA, chosenB];
}

function select(id, name, filings, chosen) {
  return h(
    "select",
    { id, name, required: true },
    filings.map((d) => h("option", { value: d.doc_id, selected: chosen && d.doc_id === chosen.doc_id }, label(d))),
  );
}

async function sectionOptions(a, b) {
  const [da, db] = await Promise.all(
    [a, b].map((id) => api(`/v1/documents/${encodeURIComponent(id)}`).catch(() => ({ sections: [] }))),
  );
  const inA = new Set(da.sections.map((s) => s.key));
  return db.sections.filter((s) => inA.has(s.key)).map((s) => h("option", { value: s.key }, `${s.key}: ${s.title}`.slice(0, 90)));
}

function pageButton(side, docId, p) {
  const pages = p.page === p.end_page ? `p.${p.page}` : `pp.${p.page}–${p.end_page}`;
  return h(
    "button",
    { type: "button", class: "link", onclick: () => openPage(docId, p.page), title: `open ${docId} page ${p.page}` },
    `${side} ${pages}`,
  );
}

function changeBody(c) {
  if (c.kind === "added") return h("p", { class: "redline-text" }, h("ins", {}, c.b.text));
  if (c.kind === "removed") return h("p", { class: "redline-text" }, h("del", {}, c.a.text));
  return h(
    "p",
    { class: "redline-text" },
    c.diff.flatMap((e) => (e.op === "=" ? [`${e.text} `] : [h(e.op === "+" ? "ins" : "del", {}, e.text), " "])),
  );
}

function changeItem(r, c) {
  const pages = [c.a ? pageButton("A", r.a.doc_id, c.a) : null, c.b ? pageButton("B", r.b.doc_id, c.b) : null];
  const similar = c.kind === "changed" ? h("span", { class: "muted" }, ` ${Math.floor(c.similarity * 100)}% similar`) : null;
  return h(
    "li",
    { class: `redline-change ${c.kind}`, "data-kind": c.kind },
    h("p", { class: "redline-head" }, h("span", { class: `kind ${c.kind}` }, c.kind), similar, " ", pages),
    changeBody(c),
  );
}

function summary(r) {
  const counts = `${r.counts.added} added · ${r.counts.removed} removed · ${r.counts.changed} changed · ${r.unchanged} unchanged${r.moved ? ` (${r.moved} moved)` : ""}`;
  const side = (name, s) =>
    h("li", {}, h("strong", {}, `${name}: `), `${s.doc_id} (${s.describe}) — ${s.section}, pages ${s.start_page}–${s.end_page}`);
  return h(
    "div",
    { class: "card", id: "redline-summary" },
    h("h2", {}, r.b.section),
    h("ul", { class: "redline-sides" }, side("A", r.a), side("B", r.b)),
    r.notes.map((n) => h("p", { class: "muted" }, `Note: ${n}`)),
    h("p", { class: "redline-counts" }, counts),
  );
}

async function showRedline(slot, q) {
  const path = (offset) =>
    `/v1/documents/${encodeURIComponent(q.a)}/redline/${encodeURIComponent(q.b)}?` +
    new URLSearchParams({ section: q.section, show: q.show || "all", offset, limit: PAGE_SIZE });
  slot.replaceChildren(h("p", { class: "muted" }, h("span", { class: "spinner" }), " comparing…"));
  let r;
  try {
    r = await api(path(0));
  } catch (err) {
    slot.replaceChildren(h("p", { class: "problem", role: "alert" }, err.message));
    return;
  }
  const list = h(
    "ol",
    { id: "redline-changes", class: "redline-changes" },
    r.changes.map((c) => changeItem(r, c)),
  );
  const more = h("button", { type: "button", class: "secondary", id: "redline-more" });
  let shown = r.changes.length;
  const refresh = () => {
    more.hidden = shown >= r.total;
    more.textContent = `Show more (${r.total - shown} left)`;
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const next = await api(path(shown));
      list.append(...next.changes.map((c) => changeItem(r, c)));
      shown += next.changes.length;
    } catch (err) {
      list.append(h("li", { class: "problem", role: "alert" }, err.message));
    }
    more.disabled = false;
    refresh();
  });
  refresh();
  slot.replaceChildren(
    summary(r),
    r.total ? list : h("p", { class: "muted" }, q.show && q.show !== "all" ? `No ${q.show} paragraphs.` : "No differences."),
    more,
  );
}

export async function redlineView(company) {
  const docs = await loadDocs();
  const filings = docs.filter((d) => d.company === company).sort((x, y) => (when(x) < when(y) ? -1 : when(x) > when(y) ? 1 : 0));
  const back = h("p", {}, h("a", { href: `#/companies/${encodeURIComponent(company)}` }, `← ${company}`));
  if (filings.length < 2) {
    view.replaceChildren(
      back,
      h("h1", {}, `Redline — ${company}`),
      h("p", { class: "muted" }, `A redline needs two filings of ${company}; the catalog has ${filings.length}.`),
    );
    return;
  }
  const q = params();
  const [a, b] =
    q.a && q.b ? [filings.find((d) => d.doc_id === q.a), filings.find((d) => d.doc_id === q.b)] : defaultPair(filings, q.b);
  const sections = h("datalist", { id: "redline-sections" });
  const form = h(
    "form",
    {
      class: "card row",
      id: "redline-form",
      onsubmit: (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        const next = new URLSearchParams({
          a: f.get("a"),
          b: f.get("b"),
          section: String(f.get("section")).trim(),
          show: f.get("show"),
        });
        location.hash = `#/redline/${encodeURIComponent(company)}?${next}`;
      },
    },
    h("div", {}, h("label", { for: "r-a" }, "Filing A (earlier)"), select("r-a", "a", filings, a)),
    h("div", {}, h("label", { for: "r-b" }, "Filing B (later)"), select("r-b", "b", filings, b)),
    h(
      "div",
      {},
      h("label", { for: "r-section" }, "Section"),
      h("input", {
        id: "r-section",
        name: "section",
        required: true,
        maxlength: 200,
        list: "redline-sections",
        value: q.section || "Item 1A",
        placeholder: "Item 1A, Note 2, Revenue Recognition…",
      }),
      sections,
    ),
    h(
      "div",
      {},
      h("label", { for: "r-show" }, "Show"),
      h(
        "select",
        { id: "r-show", name: "show" },
        KINDS.map((k) => h("option", { value: k, selected: (q.show || "all") === k }, k)),
      ),
    ),
    h("div", { class: "form-end" }, h("button", { type: "submit" }, "Compare")),
  );
  const slot = h("div", { id: "redline-result", "aria-live": "polite" });
  view.replaceChildren(back, h("h1", {}, `Redline — ${company}`), form, slot);
  if (a && b) sectionOptions(a.doc_id, b.doc_id).then((options) => sections.replaceChildren(...options));
  if (q.a && q.b && q.section) await showRedline(slot, q);
}
