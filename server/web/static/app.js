// Shared helpers for every page: the API client, element building, announcements and the theme.
// Document text only ever reaches the page through textContent (see h()).

const THEME_KEY = "aiprism-theme";

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

/** Call the JSON API; `body` may be a plain object (sent as JSON) or FormData (multipart). */
export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new ApiError("AI-Prism could not be reached. Check that it is still running.", 0, "network");
  }
  if (response.status === 204) return null;
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) {
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(error.message || `The request failed (${response.status}).`, response.status, error.code);
  }
  return data;
}

/**
 * Build an element. `props`: class, text, attrs {name: value}, dataset {key: value}, on {event: fn}.
 * Children may be nodes or strings (strings become text nodes, never markup).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  for (const [name, value] of Object.entries(props.attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const [key, value] of Object.entries(props.dataset || {})) node.dataset[key] = String(value);
  for (const [event, fn] of Object.entries(props.on || {})) node.addEventListener(event, fn);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let toastTimer = null;

/** A polite status message: shown briefly as a toast and read by screen readers. */
export function announce(message, kind = "info") {
  const region = document.getElementById("live-status");
  if (!region) return;
  region.replaceChildren(h("div", { class: `toast toast-${kind}`, text: message }));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => region.replaceChildren(), kind === "error" ? 8000 : 4000);
}

/** Show an error in an alert region of the page (as text), or as a toast when there is none. */
export function showError(region, message) {
  if (region) {
    region.textContent = message;
    region.hidden = false;
  } else {
    announce(message, "error");
  }
}

export function clearError(region) {
  if (region) {
    region.textContent = "";
    region.hidden = true;
  }
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

export function pretty(id) {
  if (!id) return "";
  const text = String(id).replace(/[_-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target.getAttribute("type") || "text").toLowerCase();
    return !["button", "submit", "reset", "checkbox", "radio", "file", "range", "color"].includes(type);
  }
  return false;
}

// --- theme ---

function systemPrefersDark() {
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
}

export function currentTheme() {
  const chosen = document.documentElement.getAttribute("data-theme");
  if (chosen === "dark" || chosen === "light") return chosen;
  return systemPrefersDark() ? "dark" : "light";
}

function syncThemeButton(button) {
  const dark = currentTheme() === "dark";
  button.setAttribute("aria-pressed", dark ? "true" : "false");
  button.title = dark ? "Switch to light mode" : "Switch to dark mode";
}

function initTheme() {
  const button = document.getElementById("theme-toggle");
  if (!button) return;
  syncThemeButton(button);
  button.addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch (err) {
      // Without storage the choice lasts for this page only.
    }
    syncThemeButton(button);
    announce(next === "dark" ? "Dark mode on" : "Light mode on");
  });
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => syncThemeButton(button));
  }
}

// --- page-wide enhancements ---

function localiseTimes(root = document) {
  for (const node of root.querySelectorAll("time[datetime]")) {
    if (node.dataset.localised) continue;
    node.textContent = formatDate(node.getAttribute("datetime"));
    node.dataset.localised = "1";
  }
}

/** Bars carry their size as data-* (CSP forbids style attributes); CSSOM styles are allowed. */
export function sizeBars(root = document) {
  for (const node of root.querySelectorAll("[data-bar-width]")) {
    node.style.width = `${Math.max(0, Math.min(100, Number(node.dataset.barWidth) || 0))}%`;
  }
  for (const node of root.querySelectorAll("[data-bar-height]")) {
    node.style.height = `${Math.max(0, Math.min(100, Number(node.dataset.barHeight) || 0))}%`;
  }
}

function init() {
  initTheme();
  localiseTimes();
  sizeBars();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", init);
} else {
  init();
}
