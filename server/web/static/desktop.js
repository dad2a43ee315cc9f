// Desktop window only (base.html includes this when the app runs in the desktop shell). A webview
// does not download files, so export links go through a native save dialog; the upload buttons
// use the native open dialog. Both via the pywebview bridge (desktop/bridge.py).
import { announce, clearError, showError } from "./app.js";

const EXPORT_PATH = /^\/api\/v1\/reviews\/([^/]+)\/export\/([a-z]+)$/;

function reviewId() {
  const data = document.getElementById("review-data");
  try {
    return data ? JSON.parse(data.textContent).id : null;
  } catch (err) {
    return null;
  }
}

function uploadBusy(busy, text) {
  const progress = document.getElementById("upload-progress");
  const label = document.getElementById("upload-progress-text");
  if (progress) progress.hidden = !busy;
  if (label && text) label.textContent = text;
}

async function openDocument(api, versionOf) {
  const errorBox = document.getElementById(versionOf ? "page-error" : "upload-error");
  if (errorBox) clearError(errorBox);
  const framework = document.getElementById("framework");
  uploadBusy(true, "Choose a document…");
  const result = await api.open_document(framework ? framework.value : null, versionOf);
  if (result && result.id) {
    uploadBusy(true, `Uploaded ${result.filename}. Opening the review…`);
    window.location.assign(`/reviews/${encodeURIComponent(result.id)}`);
    return;
  }
  uploadBusy(false);
  if (result && result.error) {
    if (errorBox) showError(errorBox, result.error);
    else announce(result.error, "error");
  }
}

async function saveExport(api, link, id, format) {
  const menu = link.closest("details");
  if (menu) menu.removeAttribute("open");
  announce("Preparing the download…");
  const result = await api.save_export(id, format);
  if (result && result.path) announce(`Saved ${result.name} to ${result.path}`);
  else if (result && result.error) announce(result.error, "error");
}

function wire(api) {
  // The hidden file inputs open the native dialog instead of the webview's own picker.
  for (const [inputId, versionOf] of [["file-input", null], ["version-input", reviewId()]]) {
    const input = document.getElementById(inputId);
    if (!input) continue;
    input.addEventListener("click", (event) => {
      event.preventDefault();
      openDocument(api, versionOf);
    });
  }
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest && event.target.closest("a[href]");
      if (!link) return;
      const url = new URL(link.href, window.location.href);
      const match = url.origin === window.location.origin && EXPORT_PATH.exec(url.pathname);
      if (!match) return;
      event.preventDefault();
      event.stopPropagation();
      saveExport(api, link, decodeURIComponent(match[1]), match[2]);
    },
    true,
  );
  document.documentElement.dataset.desktop = "ready";
}

function bridge() {
  const pv = window.pywebview;
  return pv && pv.api && typeof pv.api.open_document === "function" ? pv.api : null;
}

if (bridge()) wire(bridge());
else window.addEventListener("pywebviewready", () => bridge() && wire(bridge()), { once: true });
