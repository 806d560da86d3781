/* The usage view, for ADMIN_API_KEY only: `/admin/usage` by key and model over a period (tables and a
   daily chart), error counts from `/metrics`, and `/ready`. It shows what those endpoints report and
   says what they do not keep, never a figure of its own making. */
(() => {
  "use strict";
  const OC = window.OC;
  const $ = (id) => document.getElementById(id);
  const MEASURES = [
    ["requests", "Requests"], ["input_tokens", "Input tokens"], ["output_tokens", "Output tokens"],
    ["images", "Images"], ["audio_seconds", "Audio seconds"], ["characters", "Characters"],
    ["cost_usd", "Cost (USD)"], ["unpriced_requests", "Unpriced requests"],
  ];
  const MAX_CHART_DAYS = 31;
  let key = "";
  let daily = null; // [{day, rows}] for the chart, kept so the measure can change without a reload

  const isoDay = (date) => date.toISOString().slice(0, 10);
  const today = new Date();
  $("period-to").value = isoDay(today);
  $("period-from").value = isoDay(new Date(today.getTime() - 6 * 86400e3));

  const usageUrl = (from, to, who) => {
    const query = new URLSearchParams({ from, to });
    if (who) query.set("key", who);
    return `/admin/usage?${query}`;
  };
  const fetchUsage = async (adminKey, from, to, who) =>
    (await OC.request(usageUrl(from, to, who), { key: adminKey })).json();

  const format = (measure, value) => {
    if (measure === "cost_usd") return OC.usd(value);
    return OC.number(value, measure === "audio_seconds" ? 1 : 0);
  };
  /* A cost is never shown as a figure it is not: with unpriced requests (no published price) it is
     "unknown", or "at least" what the priced ones cost. */
  const cost = (row) => {
    if (!row.unpriced_requests) return OC.usd(row.cost_usd);
    if (row.unpriced_requests >= row.requests && !row.cost_usd) return "unknown";
    return `at least ${OC.usd(row.cost_usd)}`;
  };
  const sum = (rows, measure) => rows.reduce((total, row) => total + (measure === "tokens"
    ? (row.input_tokens || 0) + (row.output_tokens || 0) : (row[measure] || 0)), 0);

  const table = (node, columns, rows, empty) => {
    const head = OC.el("tr", {}, ...columns.map(([, label, numeric]) =>
      OC.el("th", { scope: "col", className: numeric ? "num" : "", text: label })));
    const body = rows.length ? rows.map((row) => OC.el("tr", {}, ...columns.map(([name, , numeric, show]) =>
      OC.el("td", { className: numeric ? "num" : "", text: show ? show(row[name], row) : String(row[name] ?? "") }))))
      : [OC.el("tr", {}, OC.el("td", { className: "empty", colspan: columns.length, text: empty }))];
    node.replaceChildren(OC.el("thead", {}, head), OC.el("tbody", {}, ...body));
  };
  const measureColumns = MEASURES.map(([name, label]) =>
    [name, label, true, name === "cost_usd" ? (_, row) => cost(row) : (value) => format(name, value)]);

  const render = (body) => {
    const rows = body.data;
    const totals = Object.fromEntries(MEASURES.map(([name]) => [name, sum(rows, name)]));
    $("usage-totals").replaceChildren(...MEASURES.map(([name, label]) => OC.el("div", {}, OC.el("dt", { text: label }),
      OC.el("dd", { text: name === "cost_usd" ? cost(totals) : format(name, totals[name]) }))));
    const byKey = new Map();
    for (const row of rows) {
      const total = byKey.get(row.key) || { key: row.key };
      for (const [name] of MEASURES) total[name] = (total[name] || 0) + (row[name] || 0);
      byKey.set(row.key, total);
    }
    const period = body.from === body.to ? body.from : `${body.from} to ${body.to}`;
    table($("usage-by-key"), [["key", "Key"], ...measureColumns], [...byKey.values()], `No requests on ${period}.`);
    table($("usage-by-model"), [["key", "Key"], ["model", "Workers AI model"], ...measureColumns], rows,
      `No requests on ${period}.`);
    const money = (value) => (value === null || value === undefined ? "none" : OC.usd(value));
    const limit = (value) => (value === null || value === undefined ? "none" : OC.number(value));
    table($("usage-budgets"), [
      ["key", "Key"], ["spent_today_usd", "Spent today", true, OC.usd], ["budget_usd_per_day", "Budget per day", true, money],
      ["spent_this_month_usd", "Spent this month", true, OC.usd], ["budget_usd_per_month", "Budget per month", true, money],
      ["requests_per_minute", "Requests per minute", true, limit], ["tokens_per_minute", "Tokens per minute", true, limit],
      ["models", "Models", false, (value) => (value ? value.join(", ") : "any")],
    ], body.keys, "No named keys: plain GATEWAY_API_KEYS are counted as \"unnamed\" and have no limits or budgets.");
    const scope = $("usage-scope");
    scope.hidden = body.shared;
    scope.textContent = body.shared ? "" : `These figures are one worker's only (process ${body.worker_pid}): without ` +
      "REDIS_URL each gunicorn worker counts its own requests, so another refresh may show another worker's. " +
      "Set REDIS_URL for the figures of every worker and instance.";
    const select = $("period-key");
    const names = new Set([...select.options].map((o) => o.value));
    for (const name of [...byKey.keys(), ...body.keys.map((k) => k.key)]) {
      if (!names.has(name)) { select.append(OC.el("option", { value: name, text: name })); names.add(name); }
    }
  };

  /* ---- The daily chart: one /admin/usage call per day, drawn as SVG (no inline styles). ---- */
  const days = (from, to) => {
    const out = [];
    for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86400e3) out.push(isoDay(new Date(t)));
    return out;
  };
  const svg = (tag, attrs = {}, ...children) => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  };
  const drawChart = () => {
    const holder = $("usage-chart");
    if (!daily) return;
    if (!daily.length) {
      holder.replaceChildren(OC.el("p", { className: "hint", text: `The daily chart covers up to ${MAX_CHART_DAYS} days: choose a shorter period.` }));
      return;
    }
    const measure = $("chart-measure").value;
    const label = $("chart-measure").selectedOptions[0].textContent;
    const values = daily.map(({ day, rows }) => ({ day, value: sum(rows, measure) }));
    const top = Math.max(...values.map((v) => v.value));
    const width = 760, height = 220, left = 56, bottom = 28, inner = height - bottom - 12;
    const step = (width - left - 8) / values.length;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `${label} per day from ${values[0].day} to ${values.at(-1).day}: ` +
        `${format(measure, sum(daily.flatMap((d) => d.rows), measure))} in all, at most ${format(measure, top)} in a day.` });
    chart.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width - 4, y2: height - bottom }));
    chart.append(svg("text", { x: left - 6, y: 16, "text-anchor": "end" }, format(measure, top)));
    chart.append(svg("text", { x: left - 6, y: height - bottom, "text-anchor": "end" }, "0"));
    const every = Math.ceil(values.length / 10);
    values.forEach(({ day, value }, i) => {
      const barHeight = top ? Math.max(value ? 2 : 0, (value / top) * inner) : 0;
      const x = left + i * step + step * 0.15;
      chart.append(svg("rect", { class: "bar", x: x.toFixed(1), y: (height - bottom - barHeight).toFixed(1),
        width: (step * 0.7).toFixed(1), height: barHeight.toFixed(1) }, svg("title", {}, `${day}: ${format(measure, value)}`)));
      if (i % every === 0) {
        chart.append(svg("text", { x: (x + step * 0.35).toFixed(1), y: height - 10, "text-anchor": "middle" }, day.slice(5)));
      }
    });
    holder.replaceChildren(chart);
  };
  const loadChart = async (from, to, who) => {
    const span = days(from, to);
    daily = span.length > MAX_CHART_DAYS ? [] : await Promise.all(span.map(async (day) =>
      ({ day, rows: (await fetchUsage(key, day, day, who)).data })));
    drawChart();
  };
  $("chart-measure").addEventListener("change", drawChart);

  /* ---- Errors, from the Prometheus text of /metrics ---- */
  const parseMetrics = (text) => {
    const samples = [];
    for (const line of text.split("\n")) {
      const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!match || line.startsWith("#")) continue;
      const labels = {};
      for (const [, name, raw] of (match[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
        labels[name] = raw.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
      }
      samples.push({ name: match[1], labels, value: Number(match[3]) });
    }
    return samples;
  };
  const loadErrors = async () => {
    const status = $("errors-status");
    let samples;
    try {
      samples = parseMetrics(await (await OC.request("/metrics", { key })).text());
      OC.status(status, "");
    } catch (err) {
      OC.status(status, `The metrics could not be read: ${err.message}`, "error");
      return null;
    }
    const upstream = samples.filter((s) => s.name === "openai_compat_upstream_errors_total" && s.value > 0)
      .map((s) => ({ code: s.labels.code || "(none)", status: s.labels.status, model: s.labels.model || "(none)", count: s.value }))
      .sort((a, b) => b.count - a.count);
    table($("errors-upstream"), [["code", "Code"], ["status", "Status"], ["model", "Workers AI model"],
      ["count", "Count", true, (v) => OC.number(v)]], upstream, "No upstream errors since the gateway started.");
    const replies = new Map();
    for (const s of samples) {
      if (s.name !== "openai_compat_requests_total" || Number(s.labels.status) < 400 || !s.value) continue;
      const id = `${s.labels.method} ${s.labels.route} ${s.labels.status}`;
      const row = replies.get(id) || { route: `${s.labels.method} ${s.labels.route}`, status: s.labels.status, count: 0 };
      row.count += s.value;
      replies.set(id, row);
    }
    table($("errors-routes"), [["route", "Route"], ["status", "Status"], ["count", "Count", true, (v) => OC.number(v)]],
      [...replies.values()].sort((a, b) => b.count - a.count), "No error replies since the gateway started.");
    return samples;
  };

  /* ---- Readiness: /ready, and what the metrics say of Workers AI (which /ready never calls) ---- */
  const loadHealth = async (samples) => {
    const list = $("health-checks");
    let ready;
    try {
      const response = await fetch("/ready", { cache: "no-store", credentials: "omit" });
      ready = await response.json();
      OC.status($("health-status"), `/ready answers ${response.status}: ${ready.status}.`, response.ok ? "ok" : "error");
    } catch (err) {
      OC.status($("health-status"), `/ready could not be read (${err.message}).`, "error");
      return;
    }
    const item = (name, kind, badge, detail) => OC.el("li", {}, OC.el("span", { className: "name", text: name }),
      OC.el("span", { className: `badge ${kind}`, text: badge }), OC.el("span", { text: detail }));
    const rows = Object.entries(ready.checks || {}).map(([name, value]) => {
      if (value === "ok") return item(name, "ok", "ok", "");
      if (value.startsWith("error")) return item(name, "bad", "failing", value.replace(/^error:\s*/, ""));
      return item(name, "info", value, "");
    });
    const sumOf = (name) => (samples || []).filter((s) => s.name === name).reduce((t, s) => t + s.value, 0);
    const answered = sumOf("openai_compat_upstream_duration_seconds_count");
    const errors = sumOf("openai_compat_upstream_errors_total");
    rows.push(item("Workers AI", "info", "not probed", samples
      ? `/ready never calls it (an upstream outage must not take every instance out of rotation). Since the gateway ` +
        `started: ${OC.number(answered)} calls answered, ${OC.number(errors)} failed.`
      : "/ready never calls it, and the metrics could not be read."));
    list.replaceChildren(...rows);
  };

  /* ---- Loading ---- */
  const load = async (adminKey) => {
    const from = $("period-from").value, to = $("period-to").value, who = $("period-key").value;
    const body = await fetchUsage(adminKey, from, to, who);
    key = adminKey;
    $("usage-view").hidden = false;
    render(body);
    const [samples] = await Promise.all([loadErrors(), loadChart(from, to, who).catch((err) => {
      $("usage-chart").replaceChildren(OC.el("p", { className: "status error", text: err.message }));
    })]);
    await loadHealth(samples);
    return body;
  };

  OC.keyForm({
    async check(candidate) {
      try {
        await load(candidate);
      } catch (err) {
        if (err.status === 401) throw new OC.ApiError(401, `${err.message} This view takes the gateway's ADMIN_API_KEY; client keys are refused.`);
        throw err;
      }
      return "Admin key accepted.";
    },
    forgotten() {
      key = "";
      daily = null;
      $("usage-view").hidden = true;
      for (const id of ["usage-totals", "usage-chart", "usage-by-key", "usage-by-model", "usage-budgets",
        "errors-upstream", "errors-routes", "health-checks"]) $(id).replaceChildren(); // no figures left behind
    },
  });

  $("period-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("usage-status");
    OC.status(status, "Loading…");
    try {
      const body = await load(key);
      OC.status(status, `Showing ${body.from} to ${body.to} (UTC).`, "ok");
    } catch (err) {
      OC.status(status, err.message, "error");
    }
  });
})();
