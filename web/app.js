// Sleuth web UI: plain ES modules, no build step; it talks only to the public API (/v1, /readyz).
// This module routes the URL's hash to a view (views/*.js) and keeps the API key; dom.js, api.js, state.js,
// trace.js and stages.js are what the views share.
import { api, headers, stopEvents } from "./api.js";
import { $, banner, guarded, h, view } from "./dom.js";
import { askView } from "./views/ask.js";
import { companyView } from "./views/company.js";
import { documentView } from "./views/document.js";
import { documentsView } from "./views/documents.js";
import { historyView } from "./views/history.js";
import { leaderboardView } from "./views/leaderboard.js";
import { openPage } from "./views/page.js";
import { redlineView } from "./views/redline.js";
import { runView } from "./views/run.js";
import { threadView } from "./views/thread.js";
import { loadDocs } from "./state.js";

async function route() {
  stopEvents();
  const path = location.hash.replace(/^#/, "").split("?")[0] || "/ask";
  const [, section, id] = path.split("/").map(decodeURIComponent);
  for (const a of document.querySelectorAll("nav a"))
    a.setAttribute(
      "aria-current",
      a.dataset.nav === ({ companies: "documents", threads: "history" }[section] || section) ? "page" : "false",
    );
  banner(null);
  view.replaceChildren(h("p", { class: "muted" }, h("span", { class: "spinner" }), " loading…"));
  await guarded(async () => {
    if (section === "runs" && id) await runView(id);
    else if (section === "threads" && id) await threadView(id);
    else if (section === "history") await historyView();
    else if (section === "documents" && id) await documentView(id);
    else if (section === "documents") await documentsView();
    else if (section === "companies" && id) {
      await loadDocs();
      await companyView({ h, api, view, openPage, headers, banner }, id);
    } else if (section === "redline" && id) await redlineView(id);
    else if (section === "leaderboard") await leaderboardView();
    else await askView();
  });
}

$("#key-button").addEventListener("click", () => {
  const key = prompt("API key for this Sleuth server (leave empty to remove):", localStorage.getItem("sleuth-key") || "");
  if (key === null) return;
  if (key.trim()) localStorage.setItem("sleuth-key", key.trim());
  else localStorage.removeItem("sleuth-key");
  route();
});
window.addEventListener("hashchange", route);
route();
