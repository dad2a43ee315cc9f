// Settings: the form is sent as JSON to /api/v1/settings (CSRF header added by api()).
import { announce, api, clearError, showError } from "./app.js";

const form = document.getElementById("settings-form");
const errorBox = document.getElementById("settings-error");
const save = document.getElementById("settings-save");

function values() {
  return {
    framework: form.elements.framework.value,
    ai_enabled: form.elements.ai_enabled.checked,
    aws_profile: form.elements.aws_profile.value.trim(),
    aws_region: form.elements.aws_region.value.trim(),
    muted_rules: [...form.querySelectorAll('input[name="muted_rules"]:checked')].map((box) => box.value),
  };
}

function show(saved) {
  form.elements.framework.value = saved.framework;
  form.elements.ai_enabled.checked = saved.ai_enabled;
  form.elements.aws_profile.value = saved.aws_profile;
  form.elements.aws_region.value = saved.aws_region;
  const muted = new Set(saved.muted_rules);
  for (const box of form.querySelectorAll('input[name="muted_rules"]')) box.checked = muted.has(box.value);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError(errorBox);
  save.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    show(await api("POST", "/api/v1/settings", values()));
    announce("Settings saved.");
  } catch (err) {
    showError(errorBox, err.message);
  } finally {
    save.disabled = false;
    form.removeAttribute("aria-busy");
  }
});
