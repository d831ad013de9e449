// Export a finished run: Markdown, Word, PDF (optionally with the cited page images), the XLSX evidence pack, or a ZIP
// of them all. The download is fetched with the API key (a plain link cannot send it) and saved from a blob.
import { ApiError, headers } from "../api.js";
import { guarded, h } from "../dom.js";

const FORMATS = [
  ["md", "Markdown"],
  ["docx", "Word"],
  ["pdf", "PDF"],
  ["xlsx", "Evidence (XLSX)"],
  ["zip", "All (ZIP)"],
];

function fileName(response, fallback) {
  const match = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "");
  return match ? match[1] : fallback;
}

export async function downloadExport(runId, format, pages = false) {
  const query = `format=${format}${format === "pdf" && pages ? "&pages=1" : ""}`;
  const response = await fetch(`/v1/runs/${runId}/export?${query}`, { headers: headers() });
  if (!response.ok) {
    const detail = await response.json().catch(() => ({}));
    throw new ApiError(response.status, detail.detail || `the export answered ${response.status}`);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: fileName(response, `sleuth-${runId}.${format}`), hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// The export buttons, hidden until the run has finished (the caller sets .hidden = false).
export function exportMenu(runId) {
  const pages = h("input", { type: "checkbox", class: "export-pages" });
  const note = h("span", { class: "muted", "aria-live": "polite" });
  const buttons = FORMATS.map(([format, label]) =>
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        "data-format": format,
        onclick: (event) =>
          guarded(async () => {
            const button = event.currentTarget;
            button.disabled = true;
            note.textContent = `Writing the ${label} file…`;
            try {
              await downloadExport(runId, format, pages.checked);
              note.textContent = "";
            } catch (err) {
              note.textContent = "";
              throw err;
            } finally {
              button.disabled = false;
            }
          }),
      },
      label,
    ),
  );
  return h(
    "div",
    { class: "row export-menu", role: "group", "aria-label": "Export", hidden: true }, // the page gives the newest its id
    h("span", {}, "Export:"),
    buttons,
    h("label", { title: "Append the cited pages to the PDF as images" }, pages, " PDF with cited pages"),
    note,
  );
}
