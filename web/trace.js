// A run's trace: each event type has its render function; a model turn in progress is a live row until it ends.
import { h, ticker } from "./dom.js";

function args(a) {
  if (!a) return "<invalid JSON>";
  return Object.entries(a)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
}

function modelTurn(d, t, who) {
  const u = d.usage || {};
  const calls = d.tool_calls.length
    ? d.tool_calls.map((c) => h("div", {}, h("code", {}, `${c.name}(${args(c.arguments)})`)))
    : [h("div", { class: "muted" }, d.content ? d.content.slice(0, 300) : "(text reply)")];
  return h(
    "li",
    { class: "model_turn" },
    t,
    who,
    `model turn ${d.step} · ${d.seconds.toFixed(1)} s · ${(u.prompt_tokens || 0).toLocaleString()}→${(u.completion_tokens || 0).toLocaleString()} tokens`,
    ...calls,
  );
}

// Event type -> render(data, time cell, who: a sub-agent's name or null) -> the trace's <li>, or null for no line.
export const TRACE_RENDERERS = {
  status: (d, t) =>
    h(
      "li",
      { class: "status-ev" },
      t,
      `status: ${d.status}${d.position ? ` (queue position ${d.position})` : ""}${d.error ? ` — ${d.error}` : ""}`,
    ),
  run_started: (d, t) => h("li", {}, t, `started (${d.mode})`),
  model_started: () => null, // shown live by the run view until its model_turn arrives
  model_progress: () => null, // updates that live row (what the model has written so far)
  retrieval: (d, t) =>
    h(
      "li",
      { class: "retrieval" },
      t,
      `retrieved ${d.passages.length} passages: `,
      d.passages
        .slice(0, 8)
        .map((p) => `${p.doc_id} p.${p.pages}`)
        .join(", "),
    ),
  model_turn: modelTurn,
  tool_call: () => null, // shown with its model turn
  tool_result: (d, t, who) =>
    h(
      "li",
      { class: `tool_result ${d.ok ? "ok" : "err"}` },
      t,
      who,
      h(
        "details",
        {},
        h("summary", {}, `${d.ok ? "✓" : "✗"} ${d.name} · ${d.seconds.toFixed(2)} s · ~${d.tokens.toLocaleString()} tokens`),
        h("code", {}, d.summary),
      ),
    ),
  subagent_started: (d, t) => h("li", {}, t, `↳ ${d.agent} researches: ${d.question}`),
  subagent_finished: (d, t) => h("li", {}, t, `↲ ${d.agent} ${d.status} (${d.citations} citations)`),
  compaction: (d, t, who) =>
    h(
      "li",
      { class: "compaction" },
      t,
      who,
      `compacted ${d.observations.length} earlier results: ${d.tokens_before.toLocaleString()} → ${d.tokens_after.toLocaleString()} tokens`,
    ),
  budget: (d, t, who) => h("li", { class: "budget" }, t, who, `budget ran out (${d.reason}); answering from the evidence so far`),
  citation_check: (d, t, who) =>
    h(
      "li",
      {},
      t,
      who,
      `citations checked: ${d.checked}${d.failed.length ? `, failed: ${d.failed.join("; ")}` : ", all verified"}`,
    ),
  answer: (d, t) => h("li", {}, t, `answer (${d.status})`),
  error: (d, t, who) => h("li", { class: "error" }, t, who, `error (${d.kind}): ${d.message}`),
  ingest_progress: (d, t) => h("li", {}, t, `${d.file}: ${d.status}${d.reason ? ` — ${d.reason}` : ""} (${d.done}/${d.total})`),
  index: (d, t) => h("li", {}, t, `index ${d.status}`),
};

const agentName = (ev) => (ev.agent && ev.agent !== "main" ? h("strong", {}, `${ev.agent} `) : null);

// The trace line of one event (`t0`: the run's first event time); an event type without a renderer shows its name.
export function traceItem(ev, t0, renderers = TRACE_RENDERERS) {
  const t = h("span", { class: "t" }, `${(ev.ts - t0).toFixed(1)}s`);
  const render = Object.hasOwn(renderers, ev.type) ? renderers[ev.type] : null;
  return render ? render(ev.data, t, agentName(ev)) : h("li", {}, t, ev.type);
}

// A model turn in progress: shown from its model_started event until its model_turn (or the run's end) arrives.
export function liveTurn(ev) {
  const d = ev.data;
  const reading = d.prompt_tokens ? ` reads ~${d.prompt_tokens.toLocaleString()} tokens and writes its reply` : " is working";
  return h(
    "li",
    { class: "model_turn live", "aria-live": "off" },
    h("span", { class: "spinner", "aria-hidden": true }),
    " ",
    agentName(ev),
    `model turn ${d.step}: the model${reading} · `,
    ticker(ev.ts),
    h("span", { class: "streamed" }),
    h("code", { class: "tail", hidden: true }),
  );
}

// A streamed turn's reply so far (model_progress events), shown in its live row: how much, and how it ends.
export function showProgress(li, d) {
  li.querySelector(".streamed").textContent = ` · ${d.tokens.toLocaleString()} token${d.tokens === 1 ? "" : "s"} written`;
  const tail = li.querySelector(".tail");
  tail.hidden = !d.tail;
  tail.textContent = d.chars > d.tail.length ? `…${d.tail}` : d.tail;
}
