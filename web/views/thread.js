// A research thread: its turns stacked (each with its answer, citations and collapsible trace, views/run.js), and a
// follow-up box under the last turn (Enter sends, Shift+Enter starts a new line). A follow-up asked while a turn is still
// running waits behind it, here as on the server.
import { api } from "../api.js";
import { fmtTime, guarded, h, view } from "../dom.js";
import { loadDocs } from "../state.js";
import { turnSection } from "./run.js";

const ACTIVE = ["queued", "running"];

export async function threadView(id, focusRun = null) {
  await loadDocs().catch(() => []);
  const thread = await api(`/v1/threads/${encodeURIComponent(id)}`);
  const title = h("h1", { id: "thread-title" }, thread.title);
  const meta = h("p", { class: "muted", id: "thread-meta" });
  const showMeta = (turns) =>
    meta.replaceChildren(
      `${turns} turn${turns === 1 ? "" : "s"} · started ${fmtTime(thread.created_at)} · `,
      h("a", { href: "#/ask" }, "new thread"),
    );
  const rename = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () =>
        guarded(async () => {
          const name = prompt("Title of this thread:", title.textContent);
          if (name === null || !name.trim()) return;
          const saved = await api(`/v1/threads/${thread.id}`, { method: "PATCH", body: { title: name.trim() } });
          title.textContent = saved.title;
        }),
    },
    "Rename",
  );
  const turnsBox = h("div", { class: "turns", id: "turns" });
  const turns = thread.runs.map((run, i) => turnSection(run, { latest: i === thread.runs.length - 1, heading: "h2" }));
  turnsBox.append(...turns.map((t) => t.section));
  showMeta(turns.length);

  // Turns to follow, in order: one event stream at a time (api.js keeps one), the next once the previous has ended.
  const queue = [];
  let pumping = false;
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length && turnsBox.isConnected) await guarded(queue.shift().follow);
    } finally {
      pumping = false;
    }
  };

  const mode = thread.runs.length ? thread.runs[thread.runs.length - 1].mode : "agentic";
  const box = h("textarea", {
    id: "followup",
    name: "question",
    required: true,
    maxlength: 4000,
    rows: 2,
    placeholder: "Ask a follow-up: “and in 2017?”, “compare with depreciation”…",
    "aria-describedby": "followup-hint",
  });
  const send = h("button", { type: "submit" }, "Send");
  const form = h(
    "form",
    {
      class: "card followup",
      id: "followup-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const question = box.value.trim();
        if (!question) return;
        send.disabled = true;
        await guarded(async () => {
          const created = await api("/v1/runs", { method: "POST", body: { question, mode, thread_id: thread.id } });
          const run = await api(`/v1/runs/${created.id}`);
          for (const t of turns) t.mark(false);
          const turn = turnSection(run, { latest: true, heading: "h2" });
          turns.push(turn);
          turnsBox.append(turn.section);
          showMeta(turns.length);
          box.value = "";
          queue.push(turn);
          turn.section.scrollIntoView({ block: "start" });
          pump();
        });
        send.disabled = false;
        box.focus();
      },
    },
    h("label", { for: "followup" }, "Follow-up question"),
    box,
    h(
      "p",
      { class: "row followup-actions" },
      send,
      h("span", { class: "muted", id: "followup-hint" }, `Enter sends · Shift+Enter for a new line · continues in ${mode} mode`),
    ),
  );
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  view.replaceChildren(h("div", { class: "card thread-head" }, title, meta, h("p", {}, rename)), turnsBox, form);
  const focused = turns.find((t) => t.run.id === focusRun);
  if (focused && focused !== turns[turns.length - 1]) focused.section.scrollIntoView({ block: "start" });

  // Finished turns show their answers at once (their traces load when opened; the last one's now); active ones stream.
  for (const t of turns) if (!ACTIVE.includes(t.run.status) && t.run.result) t.showResult(t.run);
  const last = turns[turns.length - 1];
  queue.push(...turns.filter((t) => ACTIVE.includes(t.run.status) || !t.run.result || t === last));
  await pump();
}
