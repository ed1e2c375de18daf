// The explorer page: asks the JSON API (/api/...) and shows each model's answer in its own
// column. Every word is put on the page as text (util.el), never as markup.

import { api, clearError, el, fixed, LETTERS, showError } from "./util.js";
import { WordMap } from "./map.js";
import { renderRuns } from "./run.js";

const page = { models: [], limits: {}, defaults: {}, maps: [] };
const $ = (id) => document.getElementById(id);

// -- one column per model ---------------------------------------------------------------------

function badge(model) {
  return el("span", { class: `badge m${model}`, text: LETTERS[model] });
}

function wordButton(word) {
  const button = el("button", { type: "button", class: "word", text: word, title: "search this word" });
  button.addEventListener("click", () => search(word));
  return button;
}

function problem(answer) {
  const box = el("p", { class: "error-inline", text: answer.error });
  if (answer.suggestions && answer.suggestions.length) {
    box.append(el("br"), "try ");
    answer.suggestions.forEach((word) => box.append(wordButton(word), " "));
  }
  return box;
}

function columns(container, answers, fill) {
  container.replaceChildren();
  container.classList.toggle("two", answers.length > 1);
  for (const answer of answers) {
    const column = el("div", { class: "column", data: { model: answer.model } });
    if (page.models.length > 1) column.append(el("h3", {}, badge(answer.model), " ", page.models[answer.model].name));
    if (answer.error) column.append(problem(answer));
    else fill(column, answer);
    container.append(column);
  }
}

// The words of the other model's answer, to mark what differs (null with one model).
function otherWords(answers, model, key) {
  const other = answers.find((a) => a.model !== model && !a.error);
  return other ? new Set(other[key].map((item) => item.word)) : null;
}

function scoredList(items, others, scoreName) {
  const list = el("ol", { class: "scored" });
  for (const item of items) {
    const differs = others !== null && !others.has(item.word);
    list.append(
      el(
        "li",
        { class: differs ? "differs" : null, title: differs ? "not in the other model's list" : null },
        wordButton(item.word),
        el("span", { class: "score", title: scoreName, text: fixed(item.score) }),
      ),
    );
  }
  if (!items.length) list.append(el("li", { class: "muted", text: "(no other words)" }));
  return list;
}

// An answer: the API's error line when the request itself was refused, else the columns.
function report(result) {
  if (!result.ok && !result.body.models) {
    showError(result.body.error || `the server answered ${result.status}`);
    return false;
  }
  clearError();
  return true;
}

// -- the questions ----------------------------------------------------------------------------

async function askNeighbors() {
  const word = $("word").value.trim();
  if (!word) return;
  const metric = $("metric").value;
  const result = await api("neighbors", { word, k: $("k").value, metric });
  if (!report(result)) return;
  const answers = result.body.models;
  const scoreName = metric === "cosine" ? "cosine similarity" : "Euclidean distance";
  columns($("neighbors"), answers, (column, answer) => {
    column.append(el("p", { class: "muted", text: `nearest to ${answer.word} by ${scoreName}` }));
    column.append(scoredList(answer.neighbors, otherWords(answers, answer.model, "neighbors"), scoreName));
  });
  for (const answer of answers) {
    const words = answer.error ? [] : [answer.word, ...answer.neighbors.map((n) => n.word)];
    page.maps[answer.model].map.highlight(words);
  }
}

function search(word) {
  $("word").value = word;
  askNeighbors();
  $("neighbors-card").scrollIntoView({ block: "nearest" });
}

async function askSimilarity() {
  const result = await api("similarity", { a: $("sim-a").value.trim(), b: $("sim-b").value.trim() });
  if (!report(result)) return;
  columns($("similarity"), result.body.models, (column, answer) => {
    column.append(
      el(
        "dl",
        { class: "numbers" },
        el("dt", { text: "cosine similarity" }),
        el("dd", { class: "cosine", text: fixed(answer.cosine) }),
        el("dt", { text: "Euclidean distance" }),
        el("dd", { class: "euclidean", text: fixed(answer.euclidean) }),
      ),
    );
  });
}

async function askAnalogy() {
  const params = { a: $("an-a").value.trim(), b: $("an-b").value.trim(), c: $("an-c").value.trim() };
  const result = await api("analogy", { ...params, k: $("an-k").value, method: $("an-method").value });
  if (!report(result)) return;
  const answers = result.body.models;
  columns($("analogy"), answers, (column, answer) => {
    column.append(el("p", { class: "muted", text: `${answer.a} : ${answer.b} :: ${answer.c} : ?` }));
    column.append(scoredList(answer.answers, otherWords(answers, answer.model, "answers"), "score"));
  });
}

// -- the maps ---------------------------------------------------------------------------------

function buildMaps() {
  const container = $("maps");
  container.classList.toggle("two", page.models.length > 1);
  page.maps = page.models.map((model, i) => {
    const canvas = el("canvas", { class: "map", data: { model: i }, "aria-label": `map of model ${LETTERS[i]}` });
    const caption = el("figcaption", { class: "caption" });
    container.append(el("figure", {}, canvas, caption));
    return { map: new WordMap(canvas, $("tooltip"), search), caption };
  });
}

async function drawMaps() {
  const method = $("map-method").value;
  const params = { method };
  if ($("map-what").value === "words") {
    params.words = $("map-words").value;
    params.neighbors = $("map-neighbors").value;
  } else {
    params.n = $("map-n").value;
  }
  const status = $("map-status");
  status.textContent = method === "tsne" ? "computing t-SNE (once per map, then cached)…" : "";
  const result = await api("map", params);
  status.textContent = "";
  if (!report(result)) return;
  const name = method === "tsne" ? "t-SNE" : "PCA";
  for (const answer of result.body.models) {
    const { map, caption } = page.maps[answer.model];
    const prefix = page.models.length > 1 ? `${LETTERS[answer.model]}: ` : "";
    if (answer.error) {
      map.setPoints([]);
      caption.textContent = prefix + answer.error;
    } else {
      map.setPoints(answer.points);
      caption.textContent = `${prefix}${answer.points.length} words · ${name}`;
    }
  }
}

function switchMapInputs() {
  const words = $("map-what").value === "words";
  document.querySelectorAll(".for-words").forEach((node) => (node.hidden = !words));
  document.querySelectorAll(".for-top").forEach((node) => (node.hidden = words));
}

// -- completion -------------------------------------------------------------------------------

// A list under the input of the words that start with what was typed, most frequent first.
function complete(input, onPick) {
  const list = el("ul", { class: "suggestions", role: "listbox", hidden: "" });
  input.after(list);
  let active = -1;
  let asked = 0;
  let timer = null;
  const close = () => {
    list.hidden = true;
    active = -1;
  };
  const pick = (word) => {
    input.value = word;
    close();
    if (onPick) onPick(word);
  };
  const fetchWords = async () => {
    const prefix = input.value.trim();
    const mine = ++asked;
    if (!prefix) return close();
    const { ok, body } = await api("complete", { prefix, limit: page.defaults.completions });
    if (mine !== asked || !ok || document.activeElement !== input) return;
    const items = body.words.map((word) => {
      const item = el("li", { role: "option", text: word });
      item.addEventListener("mousedown", (event) => {
        event.preventDefault(); // keep the focus, so the list does not close first
        pick(word);
      });
      return item;
    });
    list.replaceChildren(...items);
    list.hidden = items.length === 0;
    active = -1;
  };
  input.addEventListener("input", () => {
    asked += 1; // what was asked for an older prefix is no longer shown
    clearTimeout(timer);
    timer = setTimeout(fetchWords, 60);
  });
  input.addEventListener("keydown", (event) => {
    const items = [...list.children];
    if (event.key === "Escape") return close();
    if (list.hidden || !items.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + items.length) % items.length;
      items.forEach((item, i) => item.classList.toggle("active", i === active));
    } else if (event.key === "Enter") {
      if (active >= 0) {
        event.preventDefault();
        pick(items[active].textContent);
      } else close();
    }
  });
  const cancel = () => {
    asked += 1; // an answer still on its way is not shown
    clearTimeout(timer);
    close();
  };
  input.addEventListener("blur", () => setTimeout(cancel, 150));
  input.form.addEventListener("submit", cancel);
}

// -- start ------------------------------------------------------------------------------------

function describeModels() {
  const list = $("models");
  page.models.forEach((model, i) => {
    const size = `${model.words.toLocaleString("en")} words × ${model.dim}`;
    list.append(el("li", {}, badge(i), " ", el("span", { class: "name", text: model.name }), " ", el("span", { class: "muted", text: size })));
  });
}

function applyLimits() {
  const { limits, defaults } = page;
  for (const id of ["word", "sim-a", "sim-b", "an-a", "an-b", "an-c"]) $(id).maxLength = limits.text;
  $("map-words").maxLength = limits.list_text;
  Object.assign($("k"), { max: limits.k, value: defaults.k });
  Object.assign($("an-k"), { max: limits.k, value: defaults.analogy_k });
  Object.assign($("map-n"), { max: limits.map_words, value: defaults.map_words });
  Object.assign($("map-neighbors"), { max: limits.map_neighbors, value: defaults.map_neighbors });
}

function onSubmit(id, handler) {
  const form = $(id);
  form.noValidate = true; // the server's message says what is wrong, in the page
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    handler();
  });
}

async function main() {
  const info = await api("info");
  if (!info.ok) {
    showError(info.body.error || "the server did not describe its models");
    return;
  }
  Object.assign(page, { models: info.body.models, limits: info.body.limits, defaults: info.body.defaults });
  document.title = `w2v explorer: ${page.models.map((m) => m.name).join(" vs ")}`;
  describeModels();
  applyLimits();
  buildMaps();
  onSubmit("neighbors-form", askNeighbors);
  onSubmit("similarity-form", askSimilarity);
  onSubmit("analogy-form", askAnalogy);
  onSubmit("map-form", drawMaps);
  $("map-what").addEventListener("change", switchMapInputs);
  complete($("word"), askNeighbors);
  for (const id of ["sim-a", "sim-b", "an-a", "an-b", "an-c"]) complete($(id), null);
  $("word").focus();
  await drawMaps();
  await renderRuns($("runs"), page.models);
  document.body.dataset.ready = "true"; // for the browser tests
}

main();
