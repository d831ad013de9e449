// The API client: JSON calls with the API key, the server's clock, and a run's events as Server-Sent Events.
export function headers(extra = {}) {
  const key = localStorage.getItem("sleuth-key");
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Event times are the server's clock. When the browser's clock is off by more than a few seconds, timers correct by
// the offset the server's Date header shows (the smallest seen: a slow response only makes it look larger).
let clockOffset = null;
export const serverNow = () => Date.now() / 1000 - (clockOffset !== null && Math.abs(clockOffset) > 5 ? clockOffset : 0);
function noteClock(response) {
  const date = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(date)) return;
  const offset = (Date.now() - date) / 1000 - 0.5; // the header is cut to the second
  if (clockOffset === null || Math.abs(offset) < Math.abs(clockOffset)) clockOffset = offset;
}

export async function api(path, { method = "GET", body, form } = {}) {
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
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    let message = (data && data.detail) || `${method} ${path} answered ${response.status}`;
    if (response.status === 401) message += " — set your key with the “API key” button (top right).";
    if (response.status === 429) message += ` (retry after ${response.headers.get("Retry-After") || "a few"} s)`;
    throw new ApiError(response.status, message);
  }
  return data;
}

let stopStream = null; // aborts the event stream of the run on screen

export function stopEvents() {
  if (stopStream) {
    stopStream();
    stopStream = null;
  }
}

// Server-Sent Events over fetch (EventSource cannot send the Authorization header).
export async function streamEvents(runId, onEvent, after = 0) {
  const controller = new AbortController();
  stopStream = () => controller.abort();
  const response = await fetch(`/v1/runs/${runId}/events${after ? `?after=${after}` : ""}`, {
    headers: headers(),
    signal: controller.signal,
  });
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
