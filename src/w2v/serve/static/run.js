// A run directory's training, one card per model: the loss curve, the scores per epoch (a
// run trained with --eval), the benchmark table on request, and the settings.

import { api, el, LETTERS } from "./util.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function compact(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

// The loss per logged step against words trained, each epoch's mean as a dot.
function lossChart(history) {
  const [width, height, left, bottom, top, right] = [560, 220, 48, 28, 12, 12];
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "loss", role: "img" });
  chart.append(svg("title", {}, "training loss against words trained"));
  const xs = history.step_words;
  const ys = history.step_loss.concat(history.epoch_loss);
  if (!xs.length) return el("p", { class: "muted", text: "no loss was logged" });
  const [xMax, yMin, yMax] = [Math.max(...xs, 1), Math.min(...ys), Math.max(...ys)];
  const ySpan = yMax - yMin || 1;
  const px = (x) => left + (x / xMax) * (width - left - right);
  const py = (y) => top + (1 - (y - yMin) / ySpan) * (height - top - bottom);
  chart.append(svg("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: "axis" }));
  chart.append(svg("line", { x1: left, y1: top, x2: left, y2: height - bottom, class: "axis" }));
  for (const [value, y] of [[yMax, top], [yMin, height - bottom]]) {
    chart.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, value.toFixed(3)));
  }
  chart.append(svg("text", { x: width - right, y: height - 8, "text-anchor": "end", class: "tick" }, `${compact(xMax)} words`));
  const line = xs.map((x, i) => `${px(x).toFixed(1)},${py(history.step_loss[i]).toFixed(1)}`).join(" ");
  chart.append(svg("polyline", { points: line, class: "curve" }));
  history.epoch_words.forEach((x, i) => {
    if (i < history.epoch_loss.length) {
      const dot = svg("circle", { cx: px(x), cy: py(history.epoch_loss[i]), r: 4, class: "epoch" });
      dot.append(svg("title", {}, `epoch ${i + 1}: mean loss ${history.epoch_loss[i].toFixed(4)}`));
      chart.append(dot);
    }
  });
  return chart;
}

// Benchmarks down, epochs across: Spearman's rho, or accuracy in percent.
function evalTable(series) {
  const epochs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const head = el("tr", {}, el("th", { text: "benchmark" }), ...epochs.map((e) => el("th", { text: `epoch ${e}` })));
  const rows = series.map((s) => {
    const byEpoch = new Map(s.points.map(([epoch, score]) => [epoch, score]));
    const cells = epochs.map((e) => {
      const score = byEpoch.get(e);
      const text = score === undefined || score === null ? "–" : s.kind === "analogy" ? `${(100 * score).toFixed(1)}%` : score.toFixed(3);
      return el("td", { text });
    });
    return el("tr", {}, el("th", { text: s.benchmark }), ...cells);
  });
  return el("table", { class: "scores" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

function settingsTable(run) {
  const rows = [];
  if (run.corpus !== null && run.corpus !== undefined) rows.push(["corpus", run.corpus]);
  for (const [key, value] of Object.entries(run.stats || {})) rows.push([key.replaceAll("_", " "), typeof value === "number" ? value.toLocaleString("en") : value]);
  for (const [key, value] of Object.entries(run.settings || {})) rows.push([`--${key.replaceAll("_", "-")}`, value]);
  const body = rows.map(([key, value]) => el("tr", {}, el("th", { text: key }), el("td", { text: value === null ? "–" : String(value) })));
  return el("details", { class: "settings" }, el("summary", { text: "settings" }), el("table", {}, el("tbody", {}, ...body)));
}

function evaluateButton(id) {
  const output = el("pre", { class: "table", hidden: "" });
  const status = el("span", { class: "status" });
  const button = el("button", { type: "button", text: "Evaluate on the benchmarks" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "scoring every bundled benchmark (a few seconds, once)…";
    const { body } = await api("evaluate", { model: id });
    const answer = (body.models || [])[0] || body;
    output.textContent = answer.table || answer.error || body.error;
    output.hidden = false;
    status.textContent = "";
    button.disabled = false;
  });
  return el("div", { class: "evaluate" }, el("div", { class: "row" }, button, status), output);
}

export async function renderRuns(container, models) {
  container.replaceChildren();
  const runs = models.filter((m) => m.run);
  if (!runs.length) return;
  const { ok, body } = await api("run");
  if (!ok) return;
  for (const run of body.models) {
    const model = models[run.model];
    if (!model.run) continue;
    const card = el("section", { class: "card run", data: { model: run.model } });
    card.append(el("h2", {}, el("span", { class: `badge m${run.model}`, text: LETTERS[run.model] }), ` training of ${model.name}`));
    for (const problem of run.problems || []) card.append(el("p", { class: "error-inline", text: problem }));
    if (run.history) card.append(el("h3", { text: "loss" }), lossChart(run.history));
    card.append(el("h3", { text: "scores per epoch" }));
    if (run.eval && run.eval.length) card.append(evalTable(run.eval));
    else if (run.eval) card.append(el("p", { class: "muted", text: "eval.json holds no scores (no benchmark's words are in the vocabulary)" }));
    else card.append(el("p", { class: "muted", text: "trained without --eval: no scores per epoch" }));
    card.append(el("h3", { text: "benchmarks" }), evaluateButton(run.model));
    if (run.settings) card.append(settingsTable(run));
    container.append(card);
  }
}
