// Building pages without innerHTML (every text goes in as text) and formatting figures.

/** An element: `h("td", { class: "num" }, "12")`. Attributes starting with "on" are listeners. */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's content. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/**
 * Replaces an element's content unless `key` (what it was drawn from) is unchanged, so a refresh leaves
 * alone a part whose controls the user may be using.
 */
export function fillIfChanged(element, key, ...children) {
  if (element.dataset.drawnFrom === key) return element;
  element.dataset.drawnFrom = key;
  return fill(element, ...children);
}

/** A table from column titles and rows of cells; wrapped so it scrolls sideways on a phone. */
export function table(titles, rows, attributes) {
  return h("div", { class: "scroll" }, h("table", attributes,
    h("thead", {}, h("tr", {}, titles.map((title) => h("th", {}, title)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: titles.length, class: "muted" }, "None.")))));
}

/** A titled section of a page. */
export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), children);
}

/** A status as a coloured badge. */
export function badge(status) {
  const tone = { running: "good", ready: "good", available: "good", successful: "good", "table completed": "good", passed: "good",
    failed: "bad", error: "bad", "table error": "bad", stopping: "warn", starting: "warn", creating: "warn", testing: "warn" }[String(status).toLowerCase()];
  return h("span", { class: `badge ${tone || ""}` }, status || "—");
}

export function number(value, digits = 0) {
  if (value === undefined || value === null || Number.isNaN(value)) return "—";
  return Number(value).toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function seconds(value) {
  if (value === undefined || value === null) return "—";
  if (value < 10) return `${number(value, 1)} s`;
  if (value < 120) return `${number(value)} s`;
  if (value < 7200) return `${number(value / 60, 1)} min`;
  return `${number(value / 3600, 1)} h`;
}

export function bytes(value) {
  if (value === undefined || value === null) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${number(value, unit ? 1 : 0)} ${units[unit]}`;
}

/** A DMS timestamp (seconds since 1970) as local date and time. */
export function time(value) {
  if (!value) return "—";
  return new Date(value * 1000).toLocaleString();
}

/** A message bar at the top of the page: what a button did, or why it failed. */
export function notify(message, tone = "info") {
  const notice = document.getElementById("notice");
  fill(notice, message);
  notice.className = tone;
  notice.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { notice.hidden = true; }, tone === "bad" ? 15000 : 5000);
}

/** Runs `run` with `button` disabled meanwhile; its message is shown, or its refusal under `label`. */
async function whileDisabled(button, label, run) {
  button.disabled = true;
  try {
    const message = await run();
    if (message) notify(message, "good");
  } catch (error) {
    notify(`${label}: ${error.message}`, "bad");
  } finally {
    button.disabled = false;
  }
}

/** A button that runs an action (after `data-confirm`'s question, when given). */
export function action(label, run, attributes = {}) {
  const button = h("button", { type: "button", ...attributes }, label);
  button.addEventListener("click", () => {
    if (attributes["data-confirm"] && !window.confirm(attributes["data-confirm"])) return;
    whileDisabled(button, label, run);
  });
  return button;
}

/**
 * Runs `refresh` now and every `ms` while the page is shown (never two at once); returns what stops it.
 * A failed refresh is shown and retried at the next turn.
 */
export function poll(refresh, ms) {
  let stopped = false, busy = false;
  const turn = async () => {
    if (stopped || busy) return;
    busy = true;
    try { await refresh(); } catch (error) { if (!stopped) notify(error.message, "bad"); } finally { busy = false; }
  };
  turn();
  const timer = setInterval(turn, ms);
  return () => { stopped = true; clearInterval(timer); };
}

/** Makes a form's submit run `run`, as `action` runs a button's. */
export function onSubmit(form, label, run) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    whileDisabled(form.querySelector("button[type=submit]"), label, run);
  });
}
