// The page dialog (citations, outline): a filing's page as text at once, then as printed with the cited quote boxed.
import { api, ApiError, headers } from "../api.js";
import { $, guarded, h, period } from "../dom.js";
import { docsById } from "../state.js";

const dialog = $("#page-dialog");
let shownPage = null;
let pageMode = "image"; // the reader's choice between the page as printed and its text; kept across pages
let pageToken = 0; // only the latest page asked for is drawn
let pageBlobUrl = null;

// The page as printed (PDF filings): the image (fetched with the API key, so no <img src> to the API) and,
// for a citation, the boxes of its quote on that page.
// The server renders at most two pages of one key at once and answers 429 past that (a quick click on the next
// citation while one still renders): wait as it says (at most 5 s) and ask again, a few times.
const RENDER_TRIES = 4;
const waitAfter = (response) =>
  new Promise((done) => setTimeout(done, 1000 * Math.min(5, Number(response.headers.get("Retry-After")) || 1)));

async function fetchRendered(url) {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, { headers: headers() });
    if (response.status !== 429 || attempt >= RENDER_TRIES) return response;
    await waitAfter(response);
  }
}

async function fetchBoxes(url) {
  const response = await fetchRendered(url).catch(() => null);
  return response && response.ok ? response.json() : null;
}

async function fetchPageImage(docId, page, quote) {
  const base = `/v1/documents/${encodeURIComponent(docId)}/pages/${page}`;
  const boxes = quote ? fetchBoxes(`${base}/boxes?q=${encodeURIComponent(quote.slice(0, 2000))}`) : Promise.resolve(null);
  let response;
  try {
    response = await fetchRendered(`${base}/image`);
  } catch {
    throw new ApiError(0, "Cannot reach the Sleuth server for the page image.");
  }
  if (!response.ok) {
    const detail = await response.json().catch(() => ({}));
    throw new ApiError(response.status, detail.detail || `the page image answered ${response.status}`);
  }
  const blob = await response.blob();
  return {
    url: URL.createObjectURL(blob),
    width: Number(response.headers.get("X-Image-Width")) || 0,
    height: Number(response.headers.get("X-Image-Height")) || 0,
    boxes: await boxes,
  };
}

function drawPageImage(picture, docId, page) {
  const img = h("img", { id: "page-img", alt: `Page ${page} of ${docId} as printed` });
  const sheet = h("div", { class: "page-sheet" }, img);
  const found = picture.boxes && picture.boxes.found ? picture.boxes : null;
  const marks = [];
  if (found) {
    const w = found.width || picture.width,
      hgt = found.height || picture.height;
    for (const b of found.boxes) {
      const mark = h("div", { class: "page-box", "aria-hidden": true });
      mark.style.left = `${(100 * b.x) / w}%`;
      mark.style.top = `${(100 * b.y) / hgt}%`;
      mark.style.width = `${(100 * b.w) / w}%`;
      mark.style.height = `${(100 * b.h) / hgt}%`;
      marks.push(mark);
    }
    sheet.append(...marks);
  }
  img.addEventListener(
    "load",
    () => {
      if (marks.length) marks[marks.length - 1].scrollIntoView({ block: "center", inline: "center" });
    },
    { once: true },
  ); // a row's figure comes last
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
export async function openPage(docId, page, lines = null, quote = null, citedPage = null) {
  const token = ++pageToken;
  await guarded(async () => {
    const d = docsById.get(docId);
    const printed = !d || d.format === "pdf"; // HTML and text filings have no pages as printed: their text is the page
    const picturePromise = printed ? fetchPageImage(docId, page, quote).catch((err) => ({ error: err.message })) : null;
    const data = await api(`/v1/documents/${encodeURIComponent(docId)}/pages/${page}`);
    if (token !== pageToken) return;
    const cited = citedPage || page;
    shownPage = {
      docId,
      page,
      lines,
      quote,
      cited,
      count: data.page_count,
      image: printed ? "loading" : null,
      imageNote: null,
      textNote: null,
    };
    $("#page-title").textContent =
      `${d ? `${d.company || docId} ${d.form_type || ""} ${period(d)}` : docId} — page ${page} of ${data.page_count}`;
    const [first, last] = lines && page === cited ? String(lines).split("-").map(Number).concat([]).slice(0, 2) : [null, null];
    const end = last || first;
    const list = $("#page-lines");
    list.replaceChildren(
      ...data.lines.map((l) =>
        h("li", { value: l.number, class: first && l.number >= first && l.number <= end ? "hit" : null }, l.text || " "),
      ),
    );
    $("#page-image").replaceChildren(
      h("p", { class: "muted page-loading" }, h("span", { class: "spinner", "aria-hidden": true }), ` rendering page ${page}…`),
    );
    $("#page-prev").disabled = page <= 1;
    $("#page-next").disabled = page >= data.page_count;
    if (!dialog.open) dialog.showModal();
    showPageMode();
    if (!picturePromise) return;
    const picture = await picturePromise;
    if (token !== pageToken) {
      if (picture.url) URL.revokeObjectURL(picture.url);
      return;
    }
    if (pageBlobUrl) URL.revokeObjectURL(pageBlobUrl);
    pageBlobUrl = picture.url || null;
    if (picture.url) {
      shownPage.image = "shown";
      drawPageImage(picture, docId, page);
      if (quote && !(picture.boxes && picture.boxes.found)) {
        const short = quote.length > 120 ? `${quote.slice(0, 120)}…` : quote;
        shownPage.imageNote = picture.boxes
          ? `“${short}” — not found on this page${page !== cited ? ` (cited: page ${cited})` : ""}.`
          : "The cited text could not be located on the image.";
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
$("#page-prev").addEventListener(
  "click",
  () => shownPage && openPage(shownPage.docId, shownPage.page - 1, shownPage.lines, shownPage.quote, shownPage.cited),
);
$("#page-next").addEventListener(
  "click",
  () => shownPage && openPage(shownPage.docId, shownPage.page + 1, shownPage.lines, shownPage.quote, shownPage.cited),
);
$("#page-toggle").addEventListener("click", () => {
  pageMode = pageMode === "image" ? "text" : "image";
  showPageMode();
});
dialog.addEventListener("close", () => {
  if (pageBlobUrl) URL.revokeObjectURL(pageBlobUrl);
  pageBlobUrl = null;
  $("#page-image").replaceChildren();
});
