// The review page: wires the document, findings, chat and actions together, plus the shortcuts.
import { api, announce, formatDate, h, isTyping, showError } from "./app.js";
import { ChatView } from "./review-chat.js";
import { DocumentView } from "./review-document.js";
import { FindingsView } from "./review-findings.js";
import { ReviewModel } from "./review-model.js";
import { followProgress, wireRetry } from "./review-progress.js";

const review = JSON.parse(document.getElementById("review-data").textContent);
const pageError = document.getElementById("page-error");
const reviewUrl = `/api/v1/reviews/${encodeURIComponent(review.id)}`;

function wireHelp() {
  const dialog = document.getElementById("help-dialog");
  const open = () => {
    if (!dialog.open) dialog.showModal();
  };
  document.getElementById("help-button").addEventListener("click", open);
  document.getElementById("help-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });
  return open;
}

function showCounts(counts) {
  for (const dd of document.querySelectorAll("[data-count]")) {
    const [group, key] = dd.dataset.count.split(".");
    const source = group === "type" ? counts.by_type : counts.by_decision;
    dd.textContent = String((source && source[key]) || 0);
  }
  const tab = document.getElementById("tab-findings-count");
  if (tab) tab.textContent = String(counts.total);
}

function wireTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const choose = (tab, focus) => {
    for (const t of tabs) {
      const selected = t === tab;
      t.setAttribute("aria-selected", selected ? "true" : "false");
      t.tabIndex = selected ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) tab.focus();
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => choose(tab, false));
    tab.addEventListener("keydown", (event) => {
      const at = tabs.indexOf(tab);
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        event.preventDefault();
        const next = tabs[(at + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
        choose(next, true);
      }
    });
  }
  return (id) => choose(document.getElementById(id), false);
}

function wireComplete() {
  const button = document.getElementById("complete-button");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const result = await api("POST", `${reviewUrl}/complete`);
      const badge = document.getElementById("completed-badge");
      badge.replaceChildren("Completed ", h("time", { text: formatDate(result.completed_at), attrs: { datetime: result.completed_at } }));
      badge.hidden = false;
      button.textContent = "Review completed";
      announce("Review completed. Download the annotated document or a report.");
      const menu = document.getElementById("download-menu");
      menu.open = true;
      menu.querySelector("a").focus();
    } catch (err) {
      button.disabled = false;
      showError(pageError, err.message);
    }
  });
}

function wireVersionUpload() {
  const input = document.getElementById("version-input");
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const label = input.closest("label");
    label.classList.add("is-busy");
    input.disabled = true;
    announce(`Uploading ${file.name} as version ${review.version + 1}…`);
    const body = new FormData();
    body.append("file", file, file.name);
    try {
      const result = await api("POST", `${reviewUrl}/versions`, body);
      window.location.assign(`/reviews/${encodeURIComponent(result.id)}`);
    } catch (err) {
      showError(pageError, err.message);
      label.classList.remove("is-busy");
      input.disabled = false;
      input.value = "";
    }
  });
}

function wireMenus() {
  const menu = document.getElementById("download-menu");
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  menu.addEventListener("click", (event) => {
    if (event.target.closest("a")) setTimeout(() => (menu.open = false), 0);
  });
}

function wireShortcuts(actions) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
}

function startWorkbench(openHelp) {
  const model = new ReviewModel(review);
  let findings = null;
  const doc = new DocumentView(model, {
    onMarkClick: (id) => {
      showTab("tab-findings");
      findings.select(id, { focusCard: true, reveal: false });
    },
    onFindingAdded: (finding) => {
      model.add(finding);
      announce(`Added your finding: ${finding.title}`);
    },
  });
  findings = new FindingsView(model, doc);
  const showTab = wireTabs();
  new ChatView(review, doc);

  model.onChange((change) => {
    showCounts(model.counts());
    doc.updateBadges();
    if (change.kind === "decision") {
      findings.decided(change.id);
    } else if (change.kind === "added") {
      findings.render();
      showTab("tab-findings");
      findings.select(change.id, { focusCard: true });
    }
  });

  findings.render();
  doc.updateBadges();
  showCounts(model.counts());
  wireComplete();
  wireVersionUpload();
  wireMenus();

  const onCurrent = (fn) => () => {
    const id = findings.requireCurrent();
    if (id) fn(id);
  };
  wireShortcuts({
    j: () => {
      showTab("tab-findings");
      findings.step(1);
    },
    k: () => {
      showTab("tab-findings");
      findings.step(-1);
    },
    a: onCurrent((id) => findings.decide(id, "accept")),
    r: onCurrent((id) => findings.decide(id, "reject")),
    u: onCurrent((id) => findings.decide(id, "reset")),
    e: onCurrent((id) => {
      showTab("tab-findings");
      findings.edit(id);
    }),
    n: () => doc.openAddDialog(),
    "/": () => {
      showTab("tab-findings");
      const search = document.getElementById("filter-text");
      search.focus();
      search.select();
    },
    "?": openHelp,
  });
}

const openHelp = wireHelp();
if (review.status === "queued" || review.status === "running") {
  followProgress(review.id);
  wireShortcuts({ "?": openHelp });
} else if (review.status === "failed") {
  wireRetry(review.id);
  wireShortcuts({ "?": openHelp });
} else if (review.document) {
  startWorkbench(openHelp);
}
