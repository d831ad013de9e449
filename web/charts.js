// Charts that are evidence: Chart.js 4.6.1 (vendored in /vendor/chartjs, MIT, loaded on first use), a data table under
// every chart, each point opening the page it is printed on with the figure highlighted, restated points marked.
// Used by the company page (series from /v1/companies/...) and by answers that carry a chart.

let loading = null;

// Chart.js's UMD build sets window.Chart; loaded once, the first time a chart is drawn (no cost for pages without charts).
export function loadChart() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/vendor/chartjs/chart.umd.min.js";
      s.onload = () => resolve(window.Chart);
      s.onerror = () => {
        loading = null;
        reject(new Error("the chart library (/vendor/chartjs/chart.umd.min.js) did not load"));
      };
      document.head.append(s);
    });
  }
  return loading;
}

const SCALES = { 0: "", 3: "thousand", 6: "million", 9: "billion" };
const RESTATED = "#b3261e",
  NORMAL = "#1f5fbf";

// A point as charts take it: {label, value (full units), printed, doc_id, page, line, quote, restated, first, restating}
export function seriesPoints(series) {
  return series.points.map((p) => ({
    label: p.period,
    value: p.value,
    printed: p.source.printed,
    doc_id: p.source.doc_id,
    page: p.source.page,
    line: p.source.line,
    quote: `${p.source.label} ${p.source.printed}`,
    restated: p.restated,
    first: p.restated ? p.reports[0] : null,
    restating: p.restated ? p.restated_in : null,
  }));
}

export function shown(value, scale) {
  const v = scale ? value / 10 ** scale : value;
  return v.toLocaleString(undefined, { maximumFractionDigits: Math.abs(v) < 100 ? 2 : 1 });
}

export function unitText(unit, scale) {
  if (unit === "USD/shares") return "USD per share";
  return [unit, SCALES[scale] ?? `×10^${scale}`].filter(Boolean).join(" ");
}

// The accessible twin of a chart: every point as a row, its source a button that opens the page.
export function dataTable({ h, openPage }, points, { unit, scale, caption }) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "series-table" },
      h("caption", {}, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["Period", `Value (${unitText(unit, scale)})`, "As printed", "Source"].map((x) => h("th", { scope: "col" }, x)),
        ),
      ),
      h(
        "tbody",
        {},
        points.map((p) =>
          h(
            "tr",
            { class: p.restated ? "restated" : null },
            h("th", { scope: "row" }, p.label),
            h("td", { class: "num" }, shown(p.value, scale)),
            h("td", { class: "num" }, p.printed || ""),
            h(
              "td",
              {},
              p.page
                ? h(
                    "button",
                    { type: "button", class: "link", onclick: () => openPage(p.doc_id, p.page, p.line, p.quote) },
                    `${p.doc_id} p.${p.page}`,
                  )
                : p.doc_id,
              p.restated && p.first
                ? h(
                    "span",
                    { class: "restated-note" },
                    ` restated; first reported ${p.first.printed} in ${p.first.doc_id} p.${p.first.page}` +
                      (p.restating ? `; restated ${p.restating.printed} in ${p.restating.doc_id} p.${p.restating.page}` : ""),
                  )
                : null,
            ),
          ),
        ),
      ),
    ),
  );
}

// A line or bar chart; clicking (or Enter on the focused canvas) a point opens its page. Returns the Chart.
export async function drawChart({ openPage }, canvas, points, { unit, scale, kind = "line", title = "", spark = false }) {
  const Chart = await loadChart();
  const data = points.map((p) => (scale ? p.value / 10 ** scale : p.value));
  const chart = new Chart(canvas, {
    type: kind,
    data: {
      labels: points.map((p) => p.label),
      datasets: [
        {
          label: title,
          data,
          borderColor: NORMAL,
          backgroundColor: points.map((p) => (p.restated ? RESTATED : kind === "bar" ? "rgba(31,95,191,.7)" : NORMAL)),
          pointBackgroundColor: points.map((p) => (p.restated ? RESTATED : NORMAL)),
          pointStyle: points.map((p) => (p.restated ? "rectRot" : "circle")),
          pointRadius: spark ? points.map((p) => (p.restated ? 3 : 1.5)) : points.map((p) => (p.restated ? 7 : 4)),
          pointHoverRadius: spark ? 3 : 8,
          borderWidth: spark ? 1.5 : 2,
          tension: 0,
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          enabled: !spark,
          callbacks: {
            label: (ctx) => {
              const p = points[ctx.dataIndex];
              return `${shown(p.value, scale)} ${unitText(unit, scale)} (printed ${p.printed})${p.restated ? " — restated" : ""}`;
            },
            footer: (items) => {
              const p = points[items[0].dataIndex];
              return `${p.doc_id} p.${p.page} — click to open the page`;
            },
          },
        },
      },
      scales: spark
        ? { x: { display: false }, y: { display: false } }
        : { y: { title: { display: true, text: unitText(unit, scale) } } },
      onClick: spark
        ? undefined
        : (_event, elements) => {
            if (elements.length) {
              const p = points[elements[0].index];
              if (p.page) openPage(p.doc_id, p.page, p.line, p.quote);
            }
          },
      onHover: spark
        ? undefined
        : (event, elements) => {
            event.native.target.style.cursor = elements.length ? "pointer" : "default";
          },
    },
  });
  canvas.setAttribute("role", "img");
  canvas.setAttribute(
    "aria-label",
    `${title}: ${points.map((p) => `${p.label} ${shown(p.value, scale)}`).join(", ")} (${unitText(unit, scale)}); the table below lists every point with its page`,
  );
  return chart;
}

// A full chart with its title, line/bar switch, restated legend and data table; `points` as seriesPoints() makes them.
export function chartCard(helpers, { title, unit, scale, points, notes = [], kind = "line", extra = null }) {
  const { h } = helpers;
  const canvas = h("canvas", { class: "chart-canvas" });
  const frame = h("div", { class: "chart-frame" }, canvas);
  let chart = null;
  const draw = async (k) => {
    if (chart) chart.destroy();
    chart = await drawChart(helpers, canvas, points, { unit, scale, kind: k, title });
  };
  const toggle = h(
    "button",
    {
      type: "button",
      class: "secondary small",
      "aria-pressed": "false",
      onclick: () => {
        kind = kind === "line" ? "bar" : "line";
        toggle.textContent = kind === "line" ? "Bar chart" : "Line chart";
        draw(kind);
      },
    },
    kind === "line" ? "Bar chart" : "Line chart",
  );
  const restated = points.some((p) => p.restated);
  const card = h(
    "section",
    { class: "card chart-card" },
    h("div", { class: "chart-head" }, h("h3", {}, title), h("span", { class: "muted" }, unitText(unit, scale)), toggle, extra),
    frame,
    restated
      ? h(
          "p",
          { class: "legend" },
          h("span", { class: "restated-mark", "aria-hidden": true }, "◆"),
          " restated: a later filing printed another value (the chart shows the latest)",
        )
      : null,
    ...notes.map((n) => h("p", { class: "muted" }, n)),
    h("p", { class: "muted" }, "Click a point, or a source below, to open the page it is printed on."),
    dataTable(helpers, points, { unit, scale, caption: `${title} by period, with the page each value is printed on` }),
  );
  queueMicrotask(() =>
    draw(kind).catch((err) =>
      frame.replaceChildren(h("p", { class: "problem" }, `Chart not drawn: ${err.message}; the table below has every point.`)),
    ),
  );
  return card;
}
