// Statistics: muting and unmuting a rule.
import { api, announce, h, showError } from "./app.js";

const errorBox = document.getElementById("stats-error");

function setButton(button, muted) {
  const rule = button.dataset.rule;
  button.dataset.muted = muted ? "true" : "false";
  button.setAttribute("aria-pressed", muted ? "true" : "false");
  button.setAttribute("aria-label", `${muted ? "Unmute" : "Mute"} rule ${rule}`);
  button.textContent = muted ? "Unmute" : "Mute";
}

function showMuted(rules) {
  const list = document.getElementById("muted-rules");
  if (!list) return;
  list.replaceChildren(
    ...rules.map((rule) => {
      const button = h("button", { class: "button button-small mute-button", attrs: { type: "button" }, dataset: { rule } });
      setButton(button, true);
      return h("li", { class: "rule-item" }, h("code", { class: "rule-name", text: rule }), button);
    }),
  );
  document.getElementById("muted-empty").hidden = rules.length > 0;
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.mute-button");
  if (!button) return;
  const rule = button.dataset.rule;
  const muted = button.dataset.muted !== "true";
  button.disabled = true;
  try {
    const result = await api("POST", "/api/v1/settings/muted-rules", { rule, muted });
    const now = new Set(result.muted_rules || []);
    for (const other of document.querySelectorAll("button.mute-button")) setButton(other, now.has(other.dataset.rule));
    showMuted([...now].sort());
    if (!button.isConnected) {
      const same = document.querySelector(`button.mute-button[data-rule="${CSS.escape(rule)}"]`);
      if (same) same.focus();
    }
    announce(muted ? `Muted ${rule}: it will not run on new reviews.` : `Unmuted ${rule}.`);
  } catch (err) {
    showError(errorBox, err.message);
  } finally {
    button.disabled = false;
  }
});
