// What the page's modules share: making elements, asking the API, the error line.
//
// Every word on this page comes from a vocabulary that may hold anything, markup included,
// so text reaches the page only as text: el() sets textContent and appends strings as text
// nodes, and nothing here or in the other modules assigns innerHTML.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (key === "data") Object.assign(node.dataset, value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

// GET /api/<path>?<params>: {ok, status, body}; a network failure is an answer too.
export async function api(path, params = {}) {
  const url = new URL(`/api/${path}`, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (err) {
    return { ok: false, status: 0, body: { error: "the server does not answer (is w2v serve still running?)" } };
  }
  let body;
  try {
    body = await response.json();
  } catch (err) {
    body = { error: `the server answered ${response.status} without JSON` };
  }
  return { ok: response.ok, status: response.status, body };
}

export function showError(message) {
  const line = document.getElementById("error");
  line.textContent = message;
  line.hidden = false;
}

export function clearError() {
  const line = document.getElementById("error");
  line.textContent = "";
  line.hidden = true;
}

export function fixed(value, digits = 4) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

export const LETTERS = ["A", "B"];
