// The company page (#/companies/NAME): its standard line items as sparklines, any line item as a full chart with its
// data table, CSV/XLSX downloads. Every figure comes from GET /v1/companies/{company}[/series] with its page.
import { chartCard, drawChart, seriesPoints, shown, unitText } from "../charts.js";

async function download({ headers, banner }, path, fallbackName) {
  let response;
  try {
    response = await fetch(path, { headers: headers() });
  } catch {
    banner("Cannot reach the Sleuth server for the download.");
    return;
  }
  if (!response.ok) {
    const d = await response.json().catch(() => ({}));
    banner(d.detail || `the download answered ${response.status}`);
    return;
  }
  const name = (/filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "") || [])[1] || fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function seriesPath(company, params, format = "json") {
  const q = new URLSearchParams({ ...params, format });
  return `/v1/companies/${encodeURIComponent(company)}/series?${q}`;
}

function sparkCard(helpers, item, select) {
  const { h } = helpers;
  if (!item.series) {
    return h(
      "li",
      { class: "spark missing" },
      h("h3", {}, item.name),
      h("p", { class: "muted" }, item.missing || "not found in these filings"),
    );
  }
  const s = item.series,
    points = seriesPoints(s),
    last = points[points.length - 1];
  const canvas = h("canvas", { class: "spark-canvas", "aria-hidden": true });
  const card = h(
    "li",
    { class: "spark" },
    h(
      "button",
      { type: "button", class: "spark-open", onclick: () => select(item), "aria-label": `${item.name}: open the full chart` },
      h("h3", {}, item.name),
      s.item.toLowerCase() !== item.name.toLowerCase() ? h("p", { class: "muted spark-label" }, `as printed: ${s.item}`) : null,
      h(
        "p",
        { class: "spark-value" },
        `${shown(last.value, s.scale)} `,
        h("span", { class: "muted" }, `${unitText(s.unit, s.scale)} · ${last.label}`),
      ),
      h("div", { class: "spark-frame" }, canvas),
      h(
        "p",
        { class: "muted" },
        `${points.length} periods, ${points[0].label}–${last.label}${points.some((p) => p.restated) ? " · ◆ restated" : ""}`,
      ),
    ),
  );
  queueMicrotask(() =>
    drawChart(helpers, canvas, points, { unit: s.unit, scale: s.scale, spark: true, title: item.name }).catch(() =>
      canvas.remove(),
    ),
  );
  return card;
}

function fullChart(helpers, company, s, params) {
  const { h } = helpers;
  const buttons = h(
    "span",
    { class: "downloads" },
    h(
      "button",
      {
        type: "button",
        class: "secondary small",
        onclick: () => download(helpers, seriesPath(company, params, "csv"), "series.csv"),
      },
      "CSV",
    ),
    h(
      "button",
      {
        type: "button",
        class: "secondary small",
        onclick: () => download(helpers, seriesPath(company, params, "xlsx"), "series.xlsx"),
      },
      "XLSX",
    ),
  );
  const notes = [...s.notes];
  if (s.labels.length > 1) notes.push(`Printed as: ${s.labels.join(" / ")}`);
  if (s.alternatives.length) notes.push(`Other line items that matched “${s.query}”: ${s.alternatives.join("; ")}`);
  return chartCard(helpers, {
    title: `${s.company} — ${s.item}`,
    unit: s.unit,
    scale: s.scale,
    points: seriesPoints(s),
    notes,
    extra: buttons,
  });
}

export async function companyView(helpers, company) {
  const { h, api, view } = helpers;
  const data = await api(`/v1/companies/${encodeURIComponent(company)}`);
  const chartSlot = h("div", { id: "company-chart", "aria-live": "polite" });
  const status = h("p", { class: "muted", role: "status" });
  const show = async (params, heading) => {
    status.textContent = `loading ${heading}…`;
    try {
      const s = await api(seriesPath(data.company, params));
      chartSlot.replaceChildren(fullChart(helpers, data.company, s, params));
      status.textContent = "";
      chartSlot.scrollIntoView({ block: "nearest" });
    } catch (err) {
      status.textContent = "";
      chartSlot.replaceChildren(h("p", { class: "problem", role: "alert" }, err.message));
    }
  };
  const form = h(
    "form",
    {
      class: "card row",
      id: "series-form",
      onsubmit: (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        const params = { item: String(f.get("item")).trim(), basis: String(f.get("basis")) };
        if (String(f.get("period")).trim()) params.period = String(f.get("period")).trim();
        if (params.item) show(params, params.item);
      },
    },
    h(
      "div",
      {},
      h("label", { for: "s-item" }, "Line item"),
      h("input", {
        id: "s-item",
        name: "item",
        required: true,
        placeholder: "capital expenditure, inventory, gross profit…",
        maxlength: 200,
      }),
    ),
    h(
      "div",
      {},
      h("label", { for: "s-period" }, "Periods"),
      h("input", { id: "s-period", name: "period", placeholder: "all, FY2016-FY2022, FY2023 Q2", maxlength: 40 }),
    ),
    h(
      "div",
      {},
      h("label", { for: "s-basis" }, "Restated periods"),
      h(
        "select",
        { id: "s-basis", name: "basis" },
        h("option", { value: "latest" }, "latest printing"),
        h("option", { value: "first" }, "as first reported"),
      ),
    ),
    h("div", { class: "form-end" }, h("button", { type: "submit" }, "Chart it")),
  );
  const select = (item) => show({ item: item.series.query, statement: item.series.section || "" }, item.name);
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/documents" }, "← all documents")),
    h("h1", {}, data.company),
    h("p", {}, h("a", { href: `#/redline/${encodeURIComponent(data.company)}`, id: "redline-link" }, "Redline two filings →")),
    h(
      "p",
      { class: "muted" },
      "Standard line items across all of the company's filings (fiscal years; each point is a figure printed on a page). Pick one for its full chart.",
    ),
    h(
      "ul",
      { class: "sparks", id: "sparks" },
      data.items.map((item) => sparkCard(helpers, item, select)),
    ),
    form,
    status,
    chartSlot,
  );
  const first = data.items.find((i) => i.series);
  if (first) select(first);
}
