// The upload form: a file from the picker or dropped on the zone is sent to the API.
import { api, announce, clearError, showError } from "./app.js";

const ACCEPTED = [".docx", ".pdf", ".md", ".markdown", ".txt"];

const form = document.getElementById("upload-form");
const input = document.getElementById("file-input");
const zone = document.getElementById("drop-zone");
const errorBox = document.getElementById("upload-error");
const progress = document.getElementById("upload-progress");
const progressText = document.getElementById("upload-progress-text");
const framework = document.getElementById("framework");
let busy = false;

async function upload(file) {
  if (busy || !file) return;
  clearError(errorBox);
  const name = file.name.toLowerCase();
  if (!ACCEPTED.some((ext) => name.endsWith(ext))) {
    showError(errorBox, `“${file.name}” is not a document AI-Prism reads. Use .docx, .pdf, .md or .txt.`);
    return;
  }
  busy = true;
  form.setAttribute("aria-busy", "true");
  zone.classList.add("is-busy");
  input.disabled = true;
  progress.hidden = false;
  progressText.textContent = `Uploading ${file.name}…`;
  announce(`Uploading ${file.name}`);
  const body = new FormData();
  body.append("file", file, file.name);
  if (framework && framework.value) body.append("framework", framework.value);
  try {
    const result = await api("POST", "/api/v1/reviews", body);
    progressText.textContent = "Uploaded. Opening the review…";
    window.location.assign(`/reviews/${encodeURIComponent(result.id)}`);
  } catch (err) {
    showError(errorBox, err.message);
    progress.hidden = true;
    busy = false;
    form.removeAttribute("aria-busy");
    zone.classList.remove("is-busy");
    input.disabled = false;
    input.value = "";
  }
}

input.addEventListener("change", () => upload(input.files && input.files[0]));
form.addEventListener("submit", (event) => event.preventDefault());

for (const type of ["dragenter", "dragover"]) {
  zone.addEventListener(type, (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    zone.classList.add("is-over");
  });
}
zone.addEventListener("dragleave", (event) => {
  if (!zone.contains(event.relatedTarget)) zone.classList.remove("is-over");
});
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("is-over");
  const files = event.dataTransfer && event.dataTransfer.files;
  if (!files || files.length === 0) return;
  if (files.length > 1) {
    showError(errorBox, "Drop one document at a time.");
    return;
  }
  upload(files[0]);
});
// A file dropped outside the zone would otherwise replace the page with the file.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());
