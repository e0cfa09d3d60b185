// The dashboard: polls data.json (the server caches Trino's answers) and redraws.
"use strict";

(() => {
  const SOURCE = document.body.dataset.source;
  const REFRESH_MS = Number(document.body.dataset.refreshSeconds) * 1000;
  const SVG = "http://www.w3.org/2000/svg";
  // One colour per event type, grouped by family (visits, purchases, joins, declarations).
  const COLOURS = {
    default: "#7a7a7a",
    purchase_sword: "#1f5fa8",
    purchase_axe: "#3d86d6",
    purchase_shield: "#79aee8",
    purchase_knife: "#0b3d73",
    purchase_horse: "#a9cdf2",
    join_guild: "#2e8540",
    leave_guild: "#8cc79a",
    declare_war: "#b3261e",
    declare_peace: "#e0a21b",
  };
  const LABELS = { declare_war: "wars declared", declare_peace: "peace declared" };
  const STATUS_TEXT = {
    ok: "Pipeline reachable",
    no_tables: "Pipeline reachable, no tables yet",
    unreachable: "Pipeline not reachable",
    not_configured: "Pipeline not configured",
  };

  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat();
  let timer = null;

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props);
    for (const child of children) node.append(child);
    return node;
  }

  // CSP allows no style attributes; CSSOM properties are fine.
  function styled(node, property, value) {
    node.style.setProperty(property, value);
    return node;
  }

  function svg(tag, attributes = {}) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
    return node;
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 90) return `${Math.round(seconds)} s`;
    if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
    if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
    return `${Math.round(seconds / 86400)} days`;
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await fetch(SOURCE, { cache: "no-store", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`the dashboard endpoint answered ${response.status}`);
      render(await response.json());
    } catch (err) {
      banner("unreachable", "Dashboard server not reachable", `${err.message}. Retrying every few seconds.`);
    }
    // Polling pauses while the tab is hidden; see visibilitychange below.
    if (!document.hidden) timer = setTimeout(refresh, REFRESH_MS);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });

  function banner(status, title, message) {
    const node = $("pipeline-status");
    node.dataset.status = status;
    node.replaceChildren(el("strong", { textContent: title }), message ? ` — ${message}` : "");
  }

  function render(data) {
    banner(data.status, STATUS_TEXT[data.status] || data.status, data.message);
    document.body.dataset.status = data.status;
    const tables = Object.fromEntries(data.tables.map((t) => [t.name, t]));
    for (const node of document.querySelectorAll("[data-table]")) {
      const t = tables[node.dataset.table];
      node.textContent = t && t.present && t.rows !== null ? number.format(t.rows) : "–";
    }
    const reachable = data.status === "ok" || data.status === "no_tables";
    renderFreshness(data);
    renderPerMinute(data.events_per_minute || {}, reachable);
    for (const list of document.querySelectorAll("ol.bars")) {
      renderBars(list, (data.charts || {})[list.id.replace("chart-", "")], reachable);
    }
    renderTables(data.tables, reachable);
    renderToday(data.today || {});
    $("updated").textContent = data.taken_at
      ? `Trino was asked at ${new Date(data.taken_at).toLocaleTimeString()} (answers are shared for ${data.cache_seconds} s).`
      : "";
  }

  function renderToday(today) {
    for (const key of ["active_players", "revenue"]) {
      $(`today-${key}`).textContent = today[key] === undefined ? "–" : number.format(today[key]);
    }
    $("today-payers").textContent =
      today.paying_players === undefined ? "" : `${number.format(today.paying_players)} paying`;
  }

  function renderFreshness(data) {
    const seconds = data.newest_row_age_seconds;
    const tile = $("freshness").closest(".tile");
    $("freshness").textContent = age(seconds);
    tile.dataset.level = seconds === null ? "none" : seconds < 120 ? "fresh" : seconds < 900 ? "stale" : "old";
    $("freshness-note").textContent =
      seconds === null ? "no rows yet" : "grows while nobody plays";
  }

  function renderPerMinute(perMinute, reachable) {
    const minutes = perMinute.minutes || [];
    const counts = perMinute.counts || {};
    const types = Object.keys(counts);
    const chart = $("per-minute-chart");
    if (!minutes.length) {
      const why = reachable ? "No events table yet." : "No data while the pipeline is not reachable.";
      chart.replaceChildren(el("p", { className: "empty", textContent: why }));
      $("per-minute-legend").replaceChildren();
      $("per-minute-table").replaceChildren();
      return;
    }
    const totals = minutes.map((_, i) => types.reduce((sum, t) => sum + counts[t][i], 0));
    const max = Math.max(1, ...totals);
    const width = 720;
    const height = 200;
    const pad = { left: 36, right: 20, bottom: 22, top: 8 };
    const slot = (width - pad.left - pad.right) / minutes.length;
    const scale = (height - pad.bottom - pad.top) / max;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", "aria-hidden": "true" });
    for (const fraction of [0, 0.5, 1]) {
      const y = height - pad.bottom - fraction * max * scale;
      root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "gridline" }));
      const label = svg("text", { x: pad.left - 6, y: y + 4, class: "axis", "text-anchor": "end" });
      label.textContent = number.format(Math.round(fraction * max));
      root.append(label);
    }
    minutes.forEach((minute, i) => {
      let y = height - pad.bottom;
      for (const type of types) {
        const h = counts[type][i] * scale;
        if (h <= 0) continue;
        y -= h;
        const bar = svg("rect", { x: pad.left + i * slot + 1, y, width: Math.max(1, slot - 2), height: h, fill: COLOURS[type] || "#444" });
        const tip = svg("title");
        tip.textContent = `${new Date(minute).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })} ${type}: ${counts[type][i]}`;
        bar.append(tip);
        root.append(bar);
      }
      if (i % 5 === 0 || i === minutes.length - 1) {
        const label = svg("text", { x: pad.left + i * slot + slot / 2, y: height - 6, class: "axis", "text-anchor": "middle" });
        label.textContent = new Date(minute).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        root.append(label);
      }
    });
    chart.replaceChildren(root);
    const inWindow = totals.reduce((a, b) => a + b, 0);
    chart.setAttribute("aria-label", `Events per minute by type: ${inWindow} events in the last ${minutes.length} minutes`);
    chart.dataset.total = inWindow;
    $("per-minute-legend").replaceChildren(
      ...(types.length
        ? types.map((t) =>
            el("li", {}, styled(el("span", { className: "swatch" }), "--swatch", COLOURS[t] || "#444"),
              `${t} (${number.format(counts[t].reduce((a, b) => a + b, 0))})`),
          )
        : [el("li", { textContent: `No events in the last ${minutes.length} minutes.` })]),
    );
    const head = el("tr", {}, el("th", { scope: "col", textContent: "minute (local time)" }),
      ...types.map((t) => el("th", { scope: "col", className: "num", textContent: t })));
    const rows = minutes
      .map((m, i) => ({ m, i }))
      .filter(({ i }) => totals[i] > 0)
      .map(({ m, i }) =>
        el("tr", {}, el("th", { scope: "row", textContent: new Date(m).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }),
          ...types.map((t) => el("td", { className: "num", textContent: counts[t][i] }))),
      );
    $("per-minute-table").replaceChildren(
      rows.length ? el("table", { className: "data" }, el("thead", {}, head), el("tbody", {}, ...rows))
        : el("p", { textContent: "No events in the window." }),
    );
  }

  function renderBars(list, rows, reachable) {
    if (!rows || !rows.length) {
      const why = !reachable ? "No data while the pipeline is not reachable." : rows ? "No rows yet." : "Table not created yet.";
      list.replaceChildren(el("li", { className: "empty", textContent: why }));
      return;
    }
    const max = Math.max(1, ...rows.map((r) => r.value));
    list.replaceChildren(
      ...rows.map((r) => {
        const share = Math.max(0, (100 * r.value) / max);
        const item = el(
          "li",
          { className: "bar" },
          el("span", { className: "bar-label", textContent: LABELS[r.label] || r.label }),
          el("span", { className: "bar-track" }, styled(el("span", { className: "bar-fill" }), "width", `${share}%`)),
          el("span", { className: "bar-value", textContent: number.format(r.value) }),
        );
        item.dataset.key = r.label;
        return item;
      }),
    );
  }

  function renderTables(tables, reachable) {
    $("tables").replaceChildren(
      ...tables.map((t) =>
        el(
          "tr",
          { className: t.present ? "" : "missing" },
          el("th", { scope: "row" }, el("code", { textContent: t.name })),
          el("td", { className: "num", textContent: !reachable ? "unknown" : t.present ? number.format(t.rows) : "not created" }),
          el("td", { textContent: t.newest ? new Date(t.newest).toLocaleString() : "–" }),
          el("td", { className: "num", textContent: age(t.age_seconds) }),
        ),
      ),
    );
  }

  refresh();
})();
