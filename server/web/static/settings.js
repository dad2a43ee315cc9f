// Settings: the form is sent as JSON to /api/v1/settings (CSRF header added by api()).
// The AI card shows the fields of the chosen provider, offers model servers already running on
// this computer, lists a server's models and tests a connection before anything is saved.
import { announce, api, clearError, showError } from "./app.js";

const form = document.getElementById("settings-form");
const errorBox = document.getElementById("settings-error");
const save = document.getElementById("settings-save");
const testButton = document.getElementById("ai-test");
const testResult = document.getElementById("ai-test-result");
const hosted = !form.querySelector('input[name="ai_provider"]');
let state = JSON.parse(document.getElementById("settings-state").textContent);
let localSearch = null;

const DEFAULT_MODELS = {
  anthropic: "claude-sonnet-4-5, then claude-haiku-4-5",
  bedrock: "Claude Sonnet 4.5, then Claude Haiku 4.5 (US inference profiles)",
};

function provider() {
  const chosen = form.querySelector('input[name="ai_provider"]:checked');
  return chosen ? chosen.value : "off";
}

function aiValues() {
  const values = {
    ai_provider: provider(),
    ai_base_url: form.elements.ai_base_url.value.trim(),
    ai_model: form.elements.ai_model.value.trim(),
    aws_profile: form.elements.aws_profile.value.trim(),
    aws_region: form.elements.aws_region.value.trim(),
  };
  const key = form.elements.api_key.value.trim();
  if (key) values.api_key = key;
  return values;
}

function values() {
  const base = {
    framework: form.elements.framework.value,
    muted_rules: [...form.querySelectorAll('input[name="muted_rules"]:checked')].map((box) => box.value),
  };
  if (hosted) return base;
  return {
    ...base,
    ...aiValues(),
    mask_personal_data: form.elements.mask_personal_data.checked,
    reviewer_name: form.elements.reviewer_name.value.trim(),
  };
}

function showProvider() {
  const chosen = provider();
  for (const block of form.querySelectorAll(".provider-fields")) {
    block.hidden = !block.dataset.for.split(" ").includes(chosen);
  }
  document.getElementById("list-models").hidden = chosen !== "openai";
  const hint = document.getElementById("model-hint");
  hint.textContent = DEFAULT_MODELS[chosen] && !form.elements.ai_model.value
    ? `Leave empty for the default: ${DEFAULT_MODELS[chosen]}.` : "";
  showKeyState();
  testResult.textContent = "";
  if (chosen === "openai") findLocalServers();
}

function showKeyState() {
  const chosen = provider();
  const key = state.api_keys && state.api_keys[chosen];
  const line = document.getElementById("key-state");
  const forget = document.getElementById("forget-key");
  if (!key) return;
  forget.hidden = !key.saved;
  form.elements.api_key.placeholder = key.saved ? "saved (type a new key to replace it)" : "";
  if (key.saved) {
    line.textContent = key.where === "keychain"
      ? "A key is saved in the system keychain." : "A key is saved in a file only you can read.";
  } else {
    line.textContent = chosen === "openai"
      ? "Only if the server asks for one; local servers usually do not." : "Kept in the system keychain, never in settings.";
  }
}

function fillList(id, items) {
  const list = document.getElementById(id);
  list.replaceChildren(...items.map((item) => {
    const option = document.createElement("option");
    option.value = item;
    return option;
  }));
}

async function findLocalServers() {
  const line = document.getElementById("local-found");
  if (!localSearch) {
    line.textContent = "Looking for model servers on this computer…";
    localSearch = api("GET", "/api/v1/settings/ai/local-servers").then((answer) => answer.servers);
  }
  let servers;
  try {
    servers = await localSearch;
  } catch (err) {
    line.textContent = "";
    return;
  }
  fillList("local-urls", servers.map((s) => s.base_url));
  if (!servers.length) {
    line.textContent = "No model server found on the usual ports (Ollama 11434, LM Studio 1234, llama.cpp 8080). Start one, or type its URL.";
    return;
  }
  line.textContent = "Found: " + servers.map((s) => `${s.name} at ${s.base_url} (${s.models.length} models)`).join("; ") + ".";
  if (!form.elements.ai_base_url.value) {
    form.elements.ai_base_url.value = servers[0].base_url;
    fillList("ai-models", servers[0].models);
    if (!form.elements.ai_model.value && servers[0].models.length) form.elements.ai_model.value = servers[0].models[0];
  }
}

async function listModels() {
  clearError(errorBox);
  const hint = document.getElementById("model-hint");
  hint.textContent = "Asking the server for its models…";
  try {
    const answer = await api("POST", "/api/v1/settings/ai/models", aiValues());
    fillList("ai-models", answer.models);
    if (answer.error) {
      hint.textContent = `The server did not list its models: ${answer.error}`;
    } else {
      hint.textContent = answer.models.length ? `Models on this server: ${answer.models.join(", ")}.` : "The server lists no models.";
      if (!form.elements.ai_model.value && answer.models.length) form.elements.ai_model.value = answer.models[0];
    }
  } catch (err) {
    hint.textContent = "";
    showError(errorBox, err.message);
  }
}

async function testConnection() {
  clearError(errorBox);
  testButton.disabled = true;
  testResult.className = "";
  testResult.textContent = "Testing…";
  try {
    const answer = await api("POST", "/api/v1/settings/ai/test", hosted ? {} : aiValues());
    if (answer.ok) {
      testResult.className = "ok";
      testResult.textContent = `Connected: ${answer.model} answered in ${answer.seconds} s (${answer.provider_label}).`;
    } else {
      testResult.className = "failed";
      testResult.textContent = `Could not connect${answer.model ? " to " + answer.model : ""}: ${answer.error}`;
    }
  } catch (err) {
    testResult.textContent = "";
    showError(errorBox, err.message);
  } finally {
    testButton.disabled = false;
  }
}

function show(saved) {
  state = saved;
  form.elements.framework.value = saved.framework;
  const muted = new Set(saved.muted_rules);
  for (const box of form.querySelectorAll('input[name="muted_rules"]')) box.checked = muted.has(box.value);
  if (hosted) return;
  const radio = form.querySelector(`input[name="ai_provider"][value="${saved.ai_provider}"]`);
  if (radio) radio.checked = true;
  form.elements.ai_base_url.value = saved.ai_base_url;
  form.elements.ai_model.value = saved.ai_model;
  form.elements.aws_profile.value = saved.aws_profile;
  form.elements.aws_region.value = saved.aws_region;
  form.elements.mask_personal_data.checked = saved.mask_personal_data;
  form.elements.reviewer_name.value = saved.reviewer_name;
  form.elements.api_key.value = "";
  showProvider();
}

async function send(body) {
  clearError(errorBox);
  save.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    show(await api("POST", "/api/v1/settings", body));
    announce("Settings saved.");
  } catch (err) {
    showError(errorBox, err.message);
  } finally {
    save.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  send(values());
});
if (testButton) testButton.addEventListener("click", testConnection);
if (!hosted) {
  for (const radio of form.querySelectorAll('input[name="ai_provider"]')) radio.addEventListener("change", showProvider);
  document.getElementById("list-models").addEventListener("click", listModels);
  form.elements.ai_base_url.addEventListener("change", () => {
    if (form.elements.ai_base_url.value.trim()) listModels();
  });
  document.getElementById("forget-key").addEventListener("click", () => send({ ...values(), clear_api_key: true }));
  showProvider();
}

// Team guidelines: one document per framework, read by the server with the review readers.
for (const item of document.querySelectorAll(".guidelines-item")) {
  const file = item.querySelector(".guidelines-file");
  const state = item.querySelector(".guidelines-state");
  const attach = item.querySelector(".guidelines-attach");
  const remove = item.querySelector(".guidelines-remove");
  const url = `/api/v1/frameworks/${encodeURIComponent(item.dataset.framework)}/guidelines`;
  const showAttached = (attached) => {
    state.textContent = attached
      ? `${attached.filename} (${attached.chars.toLocaleString()} characters)` : "no document attached";
    attach.textContent = attached ? "Replace…" : "Attach…";
    remove.hidden = !attached;
  };
  attach.addEventListener("click", () => file.click());
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    clearError(errorBox);
    const body = new FormData();
    body.append("file", file.files[0]);
    state.textContent = "Reading…";
    try {
      showAttached((await api("POST", url, body)).guidelines);
      announce("Guidelines attached.");
    } catch (err) {
      showError(errorBox, err.message);
      state.textContent = "";
    } finally {
      file.value = "";
    }
  });
  remove.addEventListener("click", async () => {
    clearError(errorBox);
    try {
      showAttached((await api("DELETE", url)).guidelines);
      announce("Guidelines removed.");
    } catch (err) {
      showError(errorBox, err.message);
    }
  });
}
