// The dashboard draws what the server computed (GET /v1/monitoring/series and /v1/monitoring); it computes
// nothing of its own beyond unit conversions.
"use strict";

const POLL_MS = 2000;
const charts = {};
const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d"];

function chart(id, names, opts = {}) {
  const el = document.getElementById(id);
  const series = [{}].concat(names.map((n, i) => ({ label: n, stroke: palette[i % palette.length], width: 1.5,
    spanGaps: true })));
  const u = new uPlot({ width: el.clientWidth || 440, height: 200, series, scales: opts.scales || { x: { time: true } },
    axes: [{}, { size: 60 }], legend: { live: false } }, [[]].concat(names.map(() => [])), el);
  charts[id] = { u, names: names.join("\u0000") };
  return u;
}

// update redraws a chart; series are rebuilt when their names change (new tests or clients).
function update(id, names, xs, cols) {
  const c = charts[id];
  if (!c || c.names !== names.join("\u0000")) {
    if (c) c.u.destroy();
    chart(id, names);
  }
  charts[id].u.setData([xs].concat(cols));
}

function col(points, f) { return points.map((p) => { const v = f(p); return v === null || v === undefined ? null : v; }); }
function pct(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%"; }

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

async function refresh() {
  const [series, mon] = await Promise.all([getJSON("../v1/monitoring/series"), getJSON("../v1/monitoring")]);
  const pts = series.points;
  const xs = pts.map((p) => Date.parse(p.t) / 1000);
  update("c-traffic", ["predictions/s", "requests/s"], xs, [col(pts, (p) => p.predictions), col(pts, (p) => p.requests)]);
  update("c-latency", ["p50", "p99"], xs, [col(pts, (p) => p.p50 === null ? null : 1000 * p.p50),
    col(pts, (p) => p.p99 === null ? null : 1000 * p.p99)]);
  update("c-shed", ["shed (503)", "rate-limited (429)", "errors (5xx)"], xs,
    [col(pts, (p) => p.shed), col(pts, (p) => p.rate_limited), col(pts, (p) => p.errors)]);
  update("c-batch", ["mean batch"], xs, [col(pts, (p) => p.batch)]);
  update("c-conf", ["mean confidence"], xs, [col(pts, (p) => p.confidence)]);
  update("c-rates", ["confirm", "correction"], xs, [col(pts, (p) => p.confirm), col(pts, (p) => p.correction)]);
  const tests = [...new Set(pts.flatMap((p) => Object.keys(p.drift || {})))].sort();
  update("c-drift", tests, xs, tests.map((t) => col(pts, (p) => (p.drift || {})[t])));
  const clients = [...new Set(pts.flatMap((p) => Object.keys(p.clients || {})))].sort();
  update("c-clients", clients, xs, clients.map((c) => col(pts, (p) => ((p.clients || {})[c] || {}).estimated)));

  document.getElementById("model").textContent = "model: " + mon.model.name + " (" + mon.model.sha256.slice(0, 12) +
    ")" + (mon.model.profile ? "" : " — no reference profile in its card");
  const v = document.getElementById("verdict");
  v.textContent = mon.drift.detected ? "drift detected" : "no drift";
  v.className = "verdict " + (mon.drift.detected ? "drift" : "ok");
  const body = document.querySelector("#clients tbody");
  body.replaceChildren(...[mon].concat(mon.clients).map((c) => {
    const tr = document.createElement("tr");
    const alarming = c.drift.tests.filter((t) => t.detected).map((t) => t.name).join(", ");
    const cells = [c.client, c.predictions, c.drift.detected ? "yes" : "no", alarming || "–",
      pct(c.accuracy.estimated), c.accuracy.online === null ? "–" : pct(c.accuracy.online) + " (" + c.accuracy.online_n + ")",
      pct(c.rates.confirm), pct(c.rates.correction)];
    for (const [i, x] of cells.entries()) {
      const td = document.createElement("td");
      td.textContent = x;
      if (i === 2 && c.drift.detected) td.className = "drift";
      tr.append(td);
    }
    tr.dataset.client = c.client;
    return tr;
  }));
  document.body.dataset.updated = String(Date.now());
}

async function loop() {
  try {
    await refresh();
  } catch (e) {
    console.warn(e);
  }
  setTimeout(loop, POLL_MS);
}

if (typeof uPlot === "undefined") {
  document.getElementById("missing").hidden = false;
} else {
  loop();
}
