// Sleuth web UI: plain ES module, no build step; it talks only to the public API (/v1, /readyz).
import { edgarFetchCard } from "./edgar.js";
import { companyView } from "./company.js";
import { chartCard } from "./charts.js";
const $ = (sel, root = document) => root.querySelector(sel);
const view = $("#view");
const docsById = new Map();
let stopStream = null; // aborts the event stream of the run on screen

// --- DOM and API helpers ---

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "style") el.style.cssText = v; // CSSOM, not a style attribute: the CSP (style-src 'self') allows it
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function banner(message, kind = "error") {
  const b = $("#banner");
  if (!message) { b.hidden = true; return; }
  b.className = kind === "info" ? "info" : "";
  b.textContent = message;
  b.hidden = false;
}

function headers(extra = {}) {
  const key = localStorage.getItem("sleuth-key");
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// Event times are the server's clock. When the browser's clock is off by more than a few seconds, timers correct by
// the offset the server's Date header shows (the smallest seen: a slow response only makes it look larger).
let clockOffset = null;
const serverNow = () => Date.now() / 1000 - (clockOffset !== null && Math.abs(clockOffset) > 5 ? clockOffset : 0);
function noteClock(response) {
  const date = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(date)) return;
  const offset = (Date.now() - date) / 1000 - 0.5; // the header is cut to the second
  if (clockOffset === null || Math.abs(offset) < Math.abs(clockOffset)) clockOffset = offset;
}

function fmtDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

// Any element with data-since (server epoch seconds) shows the time elapsed since then, updated every second.
const ticker = (since) => h("span", { class: "elapsed", "data-since": since }, fmtDuration(serverNow() - since));
setInterval(() => {
  for (const el of document.querySelectorAll("[data-since]")) el.textContent = fmtDuration(serverNow() - Number(el.dataset.since));
}, 1000);

async function api(path, { method = "GET", body, form } = {}) {
  let response;
  try {
    const init = { method, headers: headers(body ? { "Content-Type": "application/json" } : {}) };
    if (body) init.body = JSON.stringify(body);
    if (form) init.body = form;
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, "Cannot reach the Sleuth server. Is `sleuth serve` running?");
  }
  noteClock(response);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    let message = (data && data.detail) || `${method} ${path} answered ${response.status}`;
    if (response.status === 401) message += " — set your key with the “API key” button (top right).";
    if (response.status === 429) message += ` (retry after ${response.headers.get("Retry-After") || "a few"} s)`;
    throw new ApiError(response.status, message);
  }
  return data;
}

async function guarded(fn) {
  try { banner(null); await fn(); } catch (err) { banner(err.message || String(err)); }
}

// Server-Sent Events over fetch (EventSource cannot send the Authorization header).
async function streamEvents(runId, onEvent, after = 0) {
  const controller = new AbortController();
  stopStream = () => controller.abort();
  const response = await fetch(`/v1/runs/${runId}/events${after ? `?after=${after}` : ""}`, { headers: headers(), signal: controller.signal });
  if (!response.ok) {
    const detail = await response.json().catch(() => ({}));
    throw new ApiError(response.status, detail.detail || `the event stream answered ${response.status}`);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const fields = {};
        for (const line of block.split("\n")) {
          if (!line || line.startsWith(":")) continue;
          const i = line.indexOf(": ");
          fields[line.slice(0, i)] = line.slice(i + 2);
        }
        if (fields.event === "end") return;
        if (fields.data) onEvent(JSON.parse(fields.data));
      }
    }
  } catch (err) {
    if (err.name !== "AbortError") throw err;
  }
}

async function loadDocs() {
  if (docsById.size) return [...docsById.values()];
  const list = await api("/v1/documents?limit=5000");
  for (const d of list.data) docsById.set(d.doc_id, d);
  return list.data;
}

const period = (d) => (d ? (d.fiscal_year ? `FY${d.fiscal_year}${d.fiscal_period && d.fiscal_period !== "FY" ? " " + d.fiscal_period : ""}` : "") : "");
const statusBadge = (status) => h("span", { class: `status ${status}`, "data-status": status }, status);
const fmtTime = (iso) => (iso ? new Date(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z").toLocaleString() : "");

// --- page viewer (citations, outline) ---

const dialog = $("#page-dialog");
let shownPage = null;
let pageMode = "image"; // the reader's choice between the page as printed and its text; kept across pages
let pageToken = 0; // only the latest page asked for is drawn
let pageBlobUrl = null;

// The page as printed (PDF filings): the image (fetched with the API key, so no <img src> to the API) and,
// for a citation, the boxes of its quote on that page.
async function fetchPageImage(docId, page, quote) {
  const base = `/v1/documents/${encodeURIComponent(docId)}/pages/${page}`;
  const boxes = quote ? api(`${base}/boxes?q=${encodeURIComponent(quote.slice(0, 2000))}`).catch(() => null) : Promise.resolve(null);
  let response;
  try { response = await fetch(`${base}/image`, { headers: headers() }); } catch { throw new ApiError(0, "Cannot reach the Sleuth server for the page image."); }
  if (!response.ok) {
    const detail = await response.json().catch(() => ({}));
    throw new ApiError(response.status, detail.detail || `the page image answered ${response.status}`);
  }
  const blob = await response.blob();
  return { url: URL.createObjectURL(blob), width: Number(response.headers.get("X-Image-Width")) || 0, height: Number(response.headers.get("X-Image-Height")) || 0, boxes: await boxes };
}

function drawPageImage(picture, docId, page) {
  const img = h("img", { id: "page-img", alt: `Page ${page} of ${docId} as printed` });
  const sheet = h("div", { class: "page-sheet" }, img);
  const found = picture.boxes && picture.boxes.found ? picture.boxes : null;
  const marks = [];
  if (found) {
    const w = found.width || picture.width, hgt = found.height || picture.height;
    for (const b of found.boxes) {
      const mark = h("div", { class: "page-box", "aria-hidden": true });
      mark.style.left = `${(100 * b.x) / w}%`; mark.style.top = `${(100 * b.y) / hgt}%`;
      mark.style.width = `${(100 * b.w) / w}%`; mark.style.height = `${(100 * b.h) / hgt}%`;
      marks.push(mark);
    }
    sheet.append(...marks);
  }
  img.addEventListener("load", () => { if (marks.length) marks[marks.length - 1].scrollIntoView({ block: "center", inline: "center" }); }, { once: true }); // a row's figure comes last
  img.src = picture.url;
  $("#page-image").replaceChildren(sheet);
}

function showPageMode() {
  const hasImage = Boolean(shownPage && shownPage.image);
  const asImage = hasImage && pageMode === "image";
  $("#page-image").hidden = !asImage;
  $("#page-lines").hidden = asImage;
  const toggle = $("#page-toggle");
  toggle.hidden = !hasImage;
  toggle.textContent = asImage ? "Text view" : "Page image";
  toggle.setAttribute("aria-pressed", asImage ? "false" : "true");
  const note = $("#page-note");
  const text = asImage ? shownPage.imageNote : shownPage && shownPage.textNote;
  note.hidden = !text;
  note.textContent = text || "";
  const hit = asImage ? [...$("#page-image").querySelectorAll(".page-box")].pop() : $(".hit", $("#page-lines"));
  if (hit) hit.scrollIntoView({ block: "center", inline: "center" });
}

// The text comes first (the dialog opens at once); the page as printed follows when it is rendered.
async function openPage(docId, page, lines = null, quote = null, citedPage = null) {
  const token = ++pageToken;
  await guarded(async () => {
    const d = docsById.get(docId);
    const printed = !d || d.format === "pdf"; // HTML and text filings have no pages as printed: their text is the page
    const picturePromise = printed ? fetchPageImage(docId, page, quote).catch((err) => ({ error: err.message })) : null;
    const data = await api(`/v1/documents/${encodeURIComponent(docId)}/pages/${page}`);
    if (token !== pageToken) return;
    const cited = citedPage || page;
    shownPage = { docId, page, lines, quote, cited, count: data.page_count, image: printed ? "loading" : null, imageNote: null, textNote: null };
    $("#page-title").textContent = `${d ? `${d.company || docId} ${d.form_type || ""} ${period(d)}` : docId} — page ${page} of ${data.page_count}`;
    const [first, last] = lines && page === cited ? String(lines).split("-").map(Number).concat([]).slice(0, 2) : [null, null];
    const end = last || first;
    const list = $("#page-lines");
    list.replaceChildren(...data.lines.map((l) => h("li", { value: l.number, class: first && l.number >= first && l.number <= end ? "hit" : null }, l.text || " ")));
    $("#page-image").replaceChildren(h("p", { class: "muted page-loading" }, h("span", { class: "spinner", "aria-hidden": true }), ` rendering page ${page}…`));
    $("#page-prev").disabled = page <= 1;
    $("#page-next").disabled = page >= data.page_count;
    if (!dialog.open) dialog.showModal();
    showPageMode();
    if (!picturePromise) return;
    const picture = await picturePromise;
    if (token !== pageToken) { if (picture.url) URL.revokeObjectURL(picture.url); return; }
    if (pageBlobUrl) URL.revokeObjectURL(pageBlobUrl);
    pageBlobUrl = picture.url || null;
    if (picture.url) {
      shownPage.image = "shown";
      drawPageImage(picture, docId, page);
      if (quote && !(picture.boxes && picture.boxes.found)) {
        const short = quote.length > 120 ? `${quote.slice(0, 120)}…` : quote;
        shownPage.imageNote = picture.boxes ? `“${short}” — not found on this page${page !== cited ? ` (cited: page ${cited})` : ""}.` : "The cited text could not be located on the image.";
      } else if (picture.boxes && picture.boxes.match === "figures") {
        shownPage.imageNote = "The quote's figures are highlighted (the quote itself is not printed word for word).";
      }
    } else {
      shownPage.image = null;
      $("#page-image").replaceChildren();
      shownPage.textNote = `No page image: ${picture.error}`;
    }
    showPageMode();
  });
}
$("#page-prev").addEventListener("click", () => shownPage && openPage(shownPage.docId, shownPage.page - 1, shownPage.lines, shownPage.quote, shownPage.cited));
$("#page-next").addEventListener("click", () => shownPage && openPage(shownPage.docId, shownPage.page + 1, shownPage.lines, shownPage.quote, shownPage.cited));
$("#page-toggle").addEventListener("click", () => { pageMode = pageMode === "image" ? "text" : "image"; showPageMode(); });
dialog.addEventListener("close", () => { if (pageBlobUrl) URL.revokeObjectURL(pageBlobUrl); pageBlobUrl = null; $("#page-image").replaceChildren(); });

// --- answer rendering ---

function citationChip(c) {
  const d = docsById.get(c.doc_id);
  const label = d ? `${d.company || c.doc_id} · ${d.form_type || ""} · ${period(d)} · p.${c.page}` : `${c.doc_id} · p.${c.page}`;
  const mark = c.verified === true ? "✓ " : c.verified === false ? "✗ " : "";
  const title = [c.quote && `“${c.quote}”`, c.problem].filter(Boolean).join(" — ");
  return h("button", { type: "button", class: `chip ${c.verified === false ? "bad" : c.verified ? "ok" : ""}`, title, "data-doc": c.doc_id, "data-page": c.page,
    onclick: () => openPage(c.doc_id, c.page, c.lines, c.quote || null) }, mark + label);
}

function metricsLine(m) {
  if (!m) return null;
  return h("div", { class: "metrics" },
    h("span", {}, `${m.latency_s.toFixed(1)} s`), h("span", {}, `${m.llm_calls} LLM calls`),
    h("span", {}, `${m.prompt_tokens.toLocaleString()} + ${m.completion_tokens.toLocaleString()} tokens`),
    h("span", {}, `${m.tool_calls} tool calls`), h("span", {}, `${m.pages_read} pages read`),
    m.subagents ? h("span", {}, `${m.subagents} sub-agents`) : null);
}

// A chart the answer carries: its points are cited figures (values already in the chart's unit), each opening its page.
function answerChart(chart) {
  const points = chart.points.map((p) => ({ label: p.label, value: p.value, printed: p.quote ? p.quote.split(" ").pop() : String(p.value),
    doc_id: p.doc_id, page: p.page, line: null, quote: p.quote || String(p.value), restated: false, first: null }));
  const notes = chart.points.some((p) => p.verified === false) ? ["Some points were not found on their cited page (see the warnings)."] : [];
  const card = chartCard({ h, openPage }, { title: chart.title, unit: chart.unit, scale: 0, points, notes, kind: chart.kind || "line" });
  card.classList.add("answer-chart");
  return card;
}

function renderAnswer(container, answer) {
  container.replaceChildren(...[
    h("div", {}, statusBadge(answer.status)),
    h("p", { class: "answer-text" }, answer.text),
    (answer.citations || []).length ? h("div", { class: "chips", "aria-label": "Citations" }, answer.citations.map(citationChip)) : h("p", { class: "muted" }, "No citations."),
    (answer.warnings || []).length ? h("ul", { class: "warnings" }, answer.warnings.map((w) => h("li", {}, w))) : null,
    answer.chart ? answerChart(answer.chart) : null,
    metricsLine(answer.metrics),
  ].filter(Boolean));
}

// --- trace rendering ---

function args(a) {
  if (!a) return "<invalid JSON>";
  return Object.entries(a).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
}

function traceItem(ev, t0) {
  const d = ev.data;
  const t = h("span", { class: "t" }, `${(ev.ts - t0).toFixed(1)}s`);
  const who = ev.agent && ev.agent !== "main" ? h("strong", {}, `${ev.agent} `) : null;
  switch (ev.type) {
    case "status": return h("li", { class: "status-ev" }, t, `status: ${d.status}${d.position ? ` (queue position ${d.position})` : ""}${d.error ? ` — ${d.error}` : ""}`);
    case "run_started": return h("li", {}, t, `started (${d.mode})`);
    case "model_started": return null; // shown live by the run view until its model_turn arrives
    case "model_progress": return null; // updates that live row (what the model has written so far)
    case "retrieval": return h("li", { class: "retrieval" }, t, `retrieved ${d.passages.length} passages: `, d.passages.slice(0, 8).map((p) => `${p.doc_id} p.${p.pages}`).join(", "));
    case "model_turn": {
      const u = d.usage || {};
      const calls = d.tool_calls.length ? d.tool_calls.map((c) => h("div", {}, h("code", {}, `${c.name}(${args(c.arguments)})`))) : [h("div", { class: "muted" }, d.content ? d.content.slice(0, 300) : "(text reply)")];
      return h("li", { class: "model_turn" }, t, who, `model turn ${d.step} · ${d.seconds.toFixed(1)} s · ${(u.prompt_tokens || 0).toLocaleString()}→${(u.completion_tokens || 0).toLocaleString()} tokens`, ...calls);
    }
    case "tool_call": return null; // shown with its model turn
    case "tool_result":
      return h("li", { class: `tool_result ${d.ok ? "ok" : "err"}` }, t, who,
        h("details", {}, h("summary", {}, `${d.ok ? "✓" : "✗"} ${d.name} · ${d.seconds.toFixed(2)} s · ~${d.tokens.toLocaleString()} tokens`), h("code", {}, d.summary)));
    case "subagent_started": return h("li", {}, t, `↳ ${d.agent} researches: ${d.question}`);
    case "subagent_finished": return h("li", {}, t, `↲ ${d.agent} ${d.status} (${d.citations} citations)`);
    case "compaction": return h("li", { class: "compaction" }, t, who, `compacted ${d.observations.length} earlier results: ${d.tokens_before.toLocaleString()} → ${d.tokens_after.toLocaleString()} tokens`);
    case "budget": return h("li", { class: "budget" }, t, who, `budget ran out (${d.reason}); answering from the evidence so far`);
    case "citation_check": return h("li", {}, t, who, `citations checked: ${d.checked}${d.failed.length ? `, failed: ${d.failed.join("; ")}` : ", all verified"}`);
    case "answer": return h("li", {}, t, `answer (${d.status})`);
    case "error": return h("li", { class: "error" }, t, who, `error (${d.kind}): ${d.message}`);
    case "ingest_progress": return h("li", {}, t, `${d.file}: ${d.status}${d.reason ? ` — ${d.reason}` : ""} (${d.done}/${d.total})`);
    case "index": return h("li", {}, t, `index ${d.status}`);
    default: return h("li", {}, t, ev.type);
  }
}

// --- views ---

async function askView() {
  const docs = await loadDocs().catch((err) => { banner(err.message); return []; });
  const companies = [...new Set(docs.map((d) => d.company).filter(Boolean))].sort();
  const forms = [...new Set(docs.map((d) => d.form_type).filter(Boolean))].sort();
  const years = [...new Set(docs.map((d) => d.fiscal_year).filter(Boolean))].sort((a, b) => b - a);
  const notice = h("p", { class: "notice", id: "model-notice", hidden: true });
  const form = h("form", { class: "card", id: "ask-form", onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const filters = {};
    if (f.get("company")) filters.company = f.get("company");
    if (f.get("form")) filters.form = f.get("form");
    if (f.get("year")) filters.year = Number(f.get("year"));
    const submit = $("button[type=submit]", e.target);
    submit.disabled = true;
    await guarded(async () => {
      const run = await api("/v1/runs", { method: "POST", body: { question: f.get("question"), mode: f.get("mode"), filters: Object.keys(filters).length ? filters : null } });
      location.hash = `#/runs/${run.id}`;
    });
    submit.disabled = false;
  } },
    h("label", { for: "question" }, "Question"),
    h("textarea", { id: "question", name: "question", required: true, maxlength: 4000, placeholder: "e.g. What is the FY2018 capital expenditure amount (in USD millions) for 3M?" }),
    h("fieldset", {}, h("legend", { class: "muted" }, "Mode"),
      ...[["agentic", "Agentic (the research agent)"], ["rag", "RAG (retrieve, then answer)"], ["compare", "Compare both"]].map(([v, text], i) =>
        h("label", {}, h("input", { type: "radio", name: "mode", value: v, checked: i === 0 }), text))),
    h("div", { class: "row" },
      h("div", {}, h("label", { for: "f-company" }, "Company"), h("input", { id: "f-company", name: "company", list: "companies", placeholder: "any" }),
        h("datalist", { id: "companies" }, companies.map((c) => h("option", { value: c })))),
      h("div", {}, h("label", { for: "f-form" }, "Form"), h("select", { id: "f-form", name: "form" }, h("option", { value: "" }, "any"), forms.map((x) => h("option", { value: x }, x)))),
      h("div", {}, h("label", { for: "f-year" }, "Fiscal year"), h("select", { id: "f-year", name: "year" }, h("option", { value: "" }, "any"), years.map((y) => h("option", { value: y }, y))))),
    h("p", {}, h("button", { type: "submit" }, "Ask")),
    notice,
    h("p", { class: "muted" }, `${docs.length} filings in the catalog.`),
  );
  view.replaceChildren(h("h1", {}, "Ask"), form);
  $("#question").focus();
  const typical = h("p", { class: "muted", id: "typical-time" });
  notice.after(typical);
  fetch("/readyz", { headers: headers() }).then((r) => r.json()).then((ready) => {
    const llm = ready.checks && ready.checks.llm;
    if (llm && llm.embedded) { notice.hidden = false; notice.textContent = "The embedded model is answering: it is for trying Sleuth and is slow and often wrong. Real answers need a real model on vLLM (SLEUTH_LLM_BASE_URL)."; }
    if (llm && !llm.ok) banner(`The model endpoint is not reachable (${llm.error}); runs will fail until it is.`);
    else if (llm && llm.server && llm.server.last_crash) banner(`The embedded model server ${llm.server.last_crash.reason} at ${new Date(llm.server.last_crash.at * 1000).toLocaleTimeString()} and was restarted (${llm.server.restarts} restart${llm.server.restarts === 1 ? "" : "s"} so far); runs in flight then failed. Its log: ${llm.server.log}`, "info");
    if (llm && llm.model) showTypicalTime(typical, llm.model).catch(() => {});
  }).catch(() => {});
}

const epoch = (iso) => (iso ? Date.parse(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z") / 1000 : null);

// A model turn in progress: shown from its model_started event until its model_turn (or the run's end) arrives.
function liveTurn(ev) {
  const d = ev.data;
  const who = ev.agent && ev.agent !== "main" ? h("strong", {}, `${ev.agent} `) : null;
  const reading = d.prompt_tokens ? ` reads ~${d.prompt_tokens.toLocaleString()} tokens and writes its reply` : " is working";
  return h("li", { class: "model_turn live", "aria-live": "off" }, h("span", { class: "spinner", "aria-hidden": true }), " ", who,
    `model turn ${d.step}: the model${reading} · `, ticker(ev.ts), h("span", { class: "streamed" }), h("code", { class: "tail", hidden: true }));
}

// A streamed turn's reply so far (model_progress events), shown in its live row: how much, and how it ends.
function showProgress(li, d) {
  li.querySelector(".streamed").textContent = ` · ${d.tokens.toLocaleString()} token${d.tokens === 1 ? "" : "s"} written`;
  const tail = li.querySelector(".tail");
  tail.hidden = !d.tail;
  tail.textContent = d.chars > d.tail.length ? `…${d.tail}` : d.tail;
}

const median = (xs) => { const v = [...xs].sort((a, b) => a - b); const m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };

// How long runs on this model took so far, per mode (median of the finished ones among the last 200).
async function showTypicalTime(target, model) {
  const runs = await api("/v1/runs?limit=200");
  const finished = runs.data.filter((r) => r.model === model && r.mode !== "ingest" && r.latency_s && ["answered", "unsure", "truncated"].includes(r.status));
  const names = { agentic: "agentic", rag: "RAG", compare: "compare" };
  const parts = Object.keys(names).map((mode) => {
    const times = finished.filter((r) => r.mode === mode).map((r) => r.latency_s);
    return times.length ? `${names[mode]} ${fmtDuration(median(times))} (${times.length} run${times.length === 1 ? "" : "s"})` : null;
  }).filter(Boolean);
  target.textContent = parts.length ? `On ${model}, a run typically takes: ${parts.join(" · ")}.` : `No finished runs on ${model} yet to say how long one takes.`;
}

async function runView(id) {
  await loadDocs().catch(() => []);
  const run = await api(`/v1/runs/${id}`);
  if (run.mode === "ingest") return jobView(run);
  const arms = run.mode === "compare" ? ["agentic", "rag"] : [run.mode];
  const status = h("span", { id: "run-status" });
  const progress = h("span", { id: "run-progress" });
  const cancel = h("button", { type: "button", class: "danger", id: "cancel", onclick: () => guarded(async () => { await api(`/v1/runs/${id}/cancel`, { method: "POST" }); }) }, "Cancel");
  const columns = {};
  const grid = h("div", { class: `arms ${arms.length === 1 ? "single" : ""}` }, arms.map((arm) => {
    const answer = h("div", { class: "answer", id: `answer-${arm}` }, h("p", { class: "muted" }, "The answer appears here."));
    const trace = h("ol", { class: "trace", id: `trace-${arm}`, "aria-live": "polite" });
    columns[arm] = { answer, trace };
    return h("section", { class: "card", "aria-label": `${arm} arm` }, h("h2", {}, arm === "agentic" ? "Agentic" : arm === "rag" ? "RAG" : arm), answer, h("h3", {}, "Trace"), trace);
  }));
  const votes = h("div", { id: "votes" });
  view.replaceChildren(
    h("div", { class: "card" }, h("h1", {}, run.question), h("p", {}, status, " ", progress, " ", cancel),
      h("p", { class: "muted" }, `${run.mode} · model ${run.model} · ${fmtTime(run.created_at)}${run.filters ? ` · filters ${JSON.stringify(run.filters)}` : ""}`)),
    grid, votes);
  let runningSince = epoch(run.started_at);
  const setStatus = (s, position, ts) => {
    status.replaceChildren(statusBadge(s));
    const active = s === "queued" || s === "running";
    if (s === "running" && ts && !runningSince) runningSince = ts;
    progress.replaceChildren(...(active ? [h("span", { class: "spinner", "aria-hidden": true }),
      s === "queued" ? ` waiting${position ? ` (position ${position})` : ""}…` : " working · ", s === "running" && runningSince ? ticker(runningSince) : ""] : []));
    cancel.hidden = !active;
  };
  setStatus(run.status, run.queue_position);
  const live = new Map(); // arm/agent -> the li of its model turn in progress
  const settleTurn = (key) => { const li = live.get(key); if (li) { li.remove(); live.delete(key); } };
  let t0 = null;
  const finish = async () => {
    for (const key of [...live.keys()]) settleTurn(key);
    const done = await api(`/v1/runs/${id}`);
    setStatus(done.status);
    if (done.result) {
      if (done.mode === "compare") { renderAnswer(columns.agentic.answer, done.result.agentic); renderAnswer(columns.rag.answer, done.result.rag); }
      else if (columns[done.mode]) renderAnswer(columns[done.mode].answer, done.result);
    } else if (done.error) {
      for (const arm of arms) columns[arm].answer.replaceChildren(statusBadge(done.status), h("p", {}, done.error));
    }
    if (done.mode === "compare" && done.result) renderVotes(votes, id);
  };
  const seen = new Set();
  await streamEvents(id, (ev) => {
    if (seen.has(ev.seq)) return;
    seen.add(ev.seq);
    if (t0 === null) t0 = ev.ts;
    if (ev.type === "status") setStatus(ev.data.status, ev.data.position, ev.ts);
    const arm = ev.arm && columns[ev.arm] ? ev.arm : arms[0];
    const key = `${arm}/${ev.agent || "main"}`;
    if (ev.type === "model_progress") { const li = live.get(key); if (li) showProgress(li, ev.data); return; }
    if (ev.type === "model_turn" || ev.type === "error" || ev.type === "answer" || ev.type === "model_started") settleTurn(key);
    if (ev.type === "status" && !["queued", "running"].includes(ev.data.status)) for (const k of [...live.keys()]) settleTurn(k);
    const targets = ev.arm || ev.type !== "status" ? [arm] : arms;
    for (const a of targets) {
      const item = ev.type === "model_started" ? liveTurn(ev) : traceItem(ev, t0);
      if (ev.type === "model_started") live.set(key, item);
      if (item) { columns[a].trace.append(item); columns[a].trace.scrollTop = columns[a].trace.scrollHeight; }
    }
    if (ev.type === "answer" && columns[arm]) renderAnswer(columns[arm].answer, ev.data);
  });
  await finish();
}

// --- ingest jobs (uploads): each stage with its time ---

function stageList(id) {
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
    if (current && current.key === key) { current.label.textContent = label; return; }
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
function ingestEvents(stages, log, total) {
  return (ev) => {
    const d = ev.data;
    if (ev.type === "status" && d.status === "queued") stages.begin("queued", "Waiting for the ingest queue", ev.ts);
    else if (ev.type === "status" && d.status === "running") stages.begin("ingest", `Extracting text and sections: 0 of ${total || "?"} files`, ev.ts);
    else if (ev.type === "ingest_progress") {
      stages.begin("ingest", `Extracting text and sections: ${d.done} of ${d.total} files`, ev.ts);
      log.append(h("li", { class: d.status === "failed" ? "err" : "" }, `${d.file}: ${d.status}${d.reason ? ` — ${d.reason}` : ""} (${d.done}/${d.total})`));
    } else if (ev.type === "index" && d.status === "updating") stages.begin("index", "Updating the search index (BM25 over every filing: up to a minute)", ev.ts);
    else if (ev.type === "index" && d.status === "ready") stages.end(ev.ts);
    else if (ev.type === "status") stages.end(ev.ts, d.status !== "done");
  };
}

function jobResult(container, job) {
  const files = (job.result && job.result.files) || [];
  container.replaceChildren(
    h("p", { role: "status" }, job.status === "done" ? `Ingested: ${job.result.summary}` : `Failed: ${job.error || job.status}`),
    files.length ? h("div", { class: "table-wrap" }, h("table", { class: "files" }, h("thead", {}, h("tr", {}, h("th", {}, "File"), h("th", {}, "Result"), h("th", {}, "Document"), h("th", {}, "Pages"))),
      h("tbody", {}, files.map((f) => h("tr", {}, h("td", {}, f.file), h("td", {}, f.status + (f.reason ? ` — ${f.reason}` : "")),
        h("td", {}, f.doc_id ? h("a", { href: `#/documents/${encodeURIComponent(f.doc_id)}` }, f.doc_id) : ""), h("td", {}, f.pages ?? "")))))) : null);
}

async function jobView(run) {
  const stages = stageList("job-stages");
  const log = h("ol", { class: "trace", id: "job-log" });
  const result = h("div", { id: "job-result" });
  view.replaceChildren(h("div", { class: "card" }, h("h1", {}, run.question), h("p", {}, statusBadge(run.status)),
    h("p", { class: "muted" }, `ingest job · ${fmtTime(run.created_at)}${run.latency_s ? ` · ${fmtDuration(run.latency_s)}` : ""}`)),
    h("section", { class: "card" }, h("h2", {}, "Stages"), stages.list, h("h3", {}, "Files"), log, result));
  await streamEvents(run.id, ingestEvents(stages, log, null));
  const done = await api(`/v1/runs/${run.id}`);
  $(".card .status", view).replaceWith(statusBadge(done.status));
  jobResult(result, done);
}

function renderVotes(container, id) {
  const vote = (winner) => guarded(async () => {
    await api(`/v1/runs/${id}/vote`, { method: "POST", body: { winner } });
    container.replaceChildren(h("p", {}, "Thanks, your vote is counted. ", h("a", { href: "#/leaderboard" }, "See the leaderboard")));
  });
  container.replaceChildren(h("div", { class: "card" }, h("h2", {}, "Which answer is better?"),
    h("p", { class: "row" }, h("button", { type: "button", onclick: () => vote("agentic") }, "Agentic better"),
      h("button", { type: "button", onclick: () => vote("rag") }, "RAG better"),
      h("button", { type: "button", class: "secondary", onclick: () => vote("tie") }, "Tie"))));
}

async function historyView() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const q = params.get("q") || "";
  const body = h("tbody");
  const search = h("form", { role: "search", class: "card row", onsubmit: (e) => { e.preventDefault(); location.hash = `#/history?q=${encodeURIComponent(new FormData(e.target).get("q"))}`; } },
    h("div", {}, h("label", { for: "history-q" }, "Search questions"), h("input", { id: "history-q", name: "q", value: q, type: "search" })),
    h("div", {}, h("label", {}, " "), h("button", { type: "submit" }, "Search")));
  view.replaceChildren(h("h1", {}, "History"), search,
    h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Mode"), h("th", {}, "Status"), h("th", {}, "Question"))), body)));
  const runs = await api(`/v1/runs?limit=100${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  body.replaceChildren(...runs.data.map((r) => h("tr", {}, h("td", {}, fmtTime(r.created_at)), h("td", {}, r.mode === "ingest" ? "ingest job" : r.mode), h("td", {}, statusBadge(r.status)),
    h("td", {}, h("a", { href: `#/runs/${r.id}` }, r.question)))));
  if (!runs.data.length) body.replaceChildren(h("tr", {}, h("td", { colspan: 4, class: "muted" }, q ? "No run matches." : "No runs yet: ask a question.")));
}

async function documentsView() {
  docsById.clear();
  let docs = await loadDocs();
  let sortKey = "doc_id", ascending = true;
  const filters = { company: "", form: "", year: "" };
  const body = h("tbody");
  const note = h("p", { id: "doc-status", role: "status", class: "muted" });
  const say = (text, kind = "info") => { note.textContent = text; note.className = kind === "error" ? "problem" : "muted"; note.setAttribute("role", kind === "error" ? "alert" : "status"); };
  const remove = (d) => guarded(async () => {
    if (!confirm(`Delete ${d.doc_id} (${d.company || "?"} ${d.form_type || ""} ${period(d)}) from the catalog, the text store and the search index?`)) return;
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
  const headers = [["doc_id", "Document"], ["company", "Company"], ["form_type", "Form"], ["fiscal_year", "Period"], ["pages", "Pages"]];
  const ths = headers.map(([key, text]) => h("th", { "data-key": key }, h("button", { type: "button", onclick: () => { ascending = sortKey === key ? !ascending : true; sortKey = key; draw(); } },
    text, h("span", { class: "arrow", "aria-hidden": true }))));
  const draw = () => {
    const rows = docs.filter((d) => (!filters.company || `${d.company} ${d.ticker || ""} ${d.doc_id}`.toLowerCase().includes(filters.company.toLowerCase()))
      && (!filters.form || d.form_type === filters.form) && (!filters.year || String(d.fiscal_year) === filters.year))
      .sort((a, b) => { const x = a[sortKey] ?? "", y = b[sortKey] ?? ""; return (x > y ? 1 : x < y ? -1 : 0) * (ascending ? 1 : -1); });
    body.replaceChildren(...rows.map((d) => h("tr", {}, h("td", {}, h("a", { href: `#/documents/${encodeURIComponent(d.doc_id)}` }, d.doc_id)), h("td", {}, d.company ? h("a", { href: `#/companies/${encodeURIComponent(d.company)}`, title: `${d.company}: line items through time` }, d.company) : ""),
      h("td", {}, d.form_type || ""), h("td", {}, period(d)), h("td", {}, d.pages),
      h("td", {}, h("button", { type: "button", class: "danger small", "aria-label": `Delete ${d.doc_id}`, onclick: () => remove(d) }, "Delete")))));
    for (const th of ths) {
      const on = th.dataset.key === sortKey;
      th.setAttribute("aria-sort", on ? (ascending ? "ascending" : "descending") : "none");
      $(".arrow", th).textContent = on ? (ascending ? " ▲" : " ▼") : "";
    }
    $("#doc-count").textContent = `${rows.length} of ${docs.length} filings`;
  };
  const refresh = async () => { docsById.clear(); docs = await loadDocs(); draw(); };
  const forms = [...new Set(docs.map((d) => d.form_type).filter(Boolean))].sort();
  const years = [...new Set(docs.map((d) => d.fiscal_year).filter(Boolean))].sort((a, b) => b - a);
  const bar = h("div", { class: "progress", hidden: true }, h("div"));
  const stages = h("div", { id: "upload-stages" });
  const log = h("ol", { class: "trace", id: "upload-log" });
  const outcome = h("div", { id: "upload-status", role: "status", "aria-live": "polite" });
  const upload = h("form", { class: "card", id: "upload-form", onsubmit: async (e) => {
    e.preventDefault();
    const submit = $("button[type=submit]", e.target);
    submit.disabled = true;
    try { await guarded(() => uploadFiles(e.target, { bar, stages, log, outcome, refresh })); } finally { submit.disabled = false; }
  } },
    h("h2", {}, "Upload filings"), h("label", { for: "files" }, "PDF, HTML, TXT or MD files"),
    h("input", { id: "files", name: "files", type: "file", multiple: true, accept: ".pdf,.htm,.html,.txt,.md", required: true }),
    h("p", {}, h("input", { id: "replace", name: "replace", type: "checkbox" }), " ", h("label", { for: "replace" }, "Replace filings that are already in the catalog under the same name")),
    h("p", {}, h("button", { type: "submit" }, "Upload and ingest")), bar, stages, outcome, log);
  view.replaceChildren(h("h1", {}, "Documents"), upload,
    h("div", { class: "card row" },
      h("div", {}, h("label", { for: "d-company" }, "Company"), h("input", { id: "d-company", type: "search", oninput: (e) => { filters.company = e.target.value; draw(); } })),
      h("div", {}, h("label", { for: "d-form" }, "Form"), h("select", { id: "d-form", onchange: (e) => { filters.form = e.target.value; draw(); } }, h("option", { value: "" }, "any"), forms.map((f) => h("option", { value: f }, f)))),
      h("div", {}, h("label", { for: "d-year" }, "Fiscal year"), h("select", { id: "d-year", onchange: (e) => { filters.year = e.target.value; draw(); } }, h("option", { value: "" }, "any"), years.map((y) => h("option", { value: y }, y))))),
    h("p", { id: "doc-count", class: "muted" }), note,
    h("div", { class: "table-wrap" }, h("table", { id: "documents" }, h("thead", {}, h("tr", {}, ...ths, h("th", {}, h("span", { class: "visually-hidden" }, "Actions")))), body)));
  draw();
  upload.after(edgarFetchCard({ h, api, streamEvents, traceItem, refresh: async () => { docsById.clear(); docs.splice(0, docs.length, ...(await loadDocs())); draw(); } }));
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
  stages.begin("upload", `Uploading ${files.length} file${files.length === 1 ? "" : "s"} (${size >= 1 << 20 ? `${(size / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(size / 1024)} KB`})`, began);
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
  outcome.replaceChildren(done.status === "done"
    ? h("p", { class: "ok" }, `Ingested in ${took}: ${done.result.summary}. The search index is updated${added.length ? `; ${added.join(", ")} ${added.length === 1 ? "is" : "are"} in the table below` : ""}. `, h("a", { href: `#/runs/${job.id}` }, "Job details"))
    : h("p", { class: "problem", role: "alert" }, `Upload failed after ${took}: ${done.error || done.status}. `, h("a", { href: `#/runs/${job.id}` }, "Job details")));
  outcome.scrollIntoView({ block: "nearest" });
  if (done.status === "done") await refresh();
}

async function documentView(docId) {
  await loadDocs();
  const d = await api(`/v1/documents/${encodeURIComponent(docId)}`);
  view.replaceChildren(h("p", {}, h("a", { href: "#/documents" }, "← all documents")),
    h("div", { class: "card" }, h("h1", {}, d.doc_id), h("p", {}, d.company ? h("a", { href: `#/companies/${encodeURIComponent(d.company)}` }, d.company) : "", ` · ${d.form_type || ""} · ${period(d)} · ${d.pages} pages · ~${d.tokens.toLocaleString()} tokens`),
      h("p", {}, h("button", { type: "button", onclick: () => openPage(d.doc_id, 1) }, "Read from page 1"))),
    h("section", { class: "card" }, h("h2", {}, "Outline"),
      d.sections.length ? h("ul", { class: "outline" }, d.sections.map((s) => h("li", { style: `padding-left:${s.depth * 1.2}rem` },
        h("button", { type: "button", class: "link", onclick: () => openPage(d.doc_id, s.start_page) }, `${s.key}: ${s.title}`), h("span", { class: "muted" }, ` p.${s.start_page}–${s.end_page}`))))
        : h("p", { class: "muted" }, "No sections were detected in this filing; read it by page.")));
}

async function leaderboardView() {
  const board = await api("/v1/leaderboard");
  view.replaceChildren(h("h1", {}, "Leaderboard"), h("p", { class: "muted" }, `Elo over ${board.votes} votes on compare runs (each vote is a game between a model's agentic and RAG answers).`),
    h("div", { class: "table-wrap" }, h("table", { id: "leaderboard" }, h("thead", {}, h("tr", {}, ...["Mode", "Model", "Rating", "Wins", "Losses", "Ties"].map((x) => h("th", {}, x)))),
      h("tbody", {}, board.data.length ? board.data.map((r) => h("tr", {}, h("td", {}, r.mode), h("td", {}, r.model), h("td", {}, r.rating.toFixed(1)), h("td", {}, r.wins), h("td", {}, r.losses), h("td", {}, r.ties)))
        : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No votes yet: run a compare and vote."))))));
}

// --- routing ---

async function route() {
  if (stopStream) { stopStream(); stopStream = null; }
  const path = location.hash.replace(/^#/, "").split("?")[0] || "/ask";
  const [, section, id] = path.split("/").map(decodeURIComponent);
  for (const a of document.querySelectorAll("nav a")) a.setAttribute("aria-current", a.dataset.nav === (section === "companies" ? "documents" : section) ? "page" : "false");
  banner(null);
  view.replaceChildren(h("p", { class: "muted" }, h("span", { class: "spinner" }), " loading…"));
  await guarded(async () => {
    if (section === "runs" && id) await runView(id);
    else if (section === "history") await historyView();
    else if (section === "documents" && id) await documentView(id);
    else if (section === "documents") await documentsView();
    else if (section === "companies" && id) { await loadDocs(); await companyView({ h, api, view, openPage, headers, banner }, id); }
    else if (section === "leaderboard") await leaderboardView();
    else await askView();
  });
}

$("#key-button").addEventListener("click", () => {
  const key = prompt("API key for this Sleuth server (leave empty to remove):", localStorage.getItem("sleuth-key") || "");
  if (key === null) return;
  if (key.trim()) localStorage.setItem("sleuth-key", key.trim()); else localStorage.removeItem("sleuth-key");
  route();
});
window.addEventListener("hashchange", route);
route();
