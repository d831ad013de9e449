// DOM helpers and the small formatters every view uses.
import { serverNow } from "./api.js";

export const $ = (sel, root = document) => root.querySelector(sel);
export const view = $("#view"); // where the route's view is drawn

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "style")
      el.style.cssText = v; // CSSOM, not a style attribute: the CSP (style-src 'self') allows it
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function banner(message, kind = "error") {
  const b = $("#banner");
  if (!message) {
    b.hidden = true;
    return;
  }
  b.className = kind === "info" ? "info" : "";
  b.textContent = message;
  b.hidden = false;
}

export async function guarded(fn) {
  try {
    banner(null);
    await fn();
  } catch (err) {
    banner(err.message || String(err));
  }
}

export function fmtDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

// Any element with data-since (server epoch seconds) shows the time elapsed since then, updated every second.
export const ticker = (since) => h("span", { class: "elapsed", "data-since": since }, fmtDuration(serverNow() - since));
setInterval(() => {
  for (const el of document.querySelectorAll("[data-since]"))
    el.textContent = fmtDuration(serverNow() - Number(el.dataset.since));
}, 1000);

export const period = (d) =>
  d ? (d.fiscal_year ? `FY${d.fiscal_year}${d.fiscal_period && d.fiscal_period !== "FY" ? " " + d.fiscal_period : ""}` : "") : "";
export const statusBadge = (status) => h("span", { class: `status ${status}`, "data-status": status }, status);
export const fmtTime = (iso) => (iso ? new Date(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z").toLocaleString() : "");
export const epoch = (iso) => (iso ? Date.parse(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z") / 1000 : null);
