// The findings pane: cards, filters, decisions and the "current finding" the shortcuts act on.
import { api, announce, h, pretty } from "./app.js";
import { confidenceBasis, decisionOf, shownConfidence } from "./review-model.js";

/** A finding a reviewer rejected in an earlier version, carried here: hidden unless asked for. */
function carriedRejection(f) {
  return decisionOf(f) === "reject" && Boolean(f.decision && f.decision.carried_from);
}

const DECISION_LABEL = { accept: "Accepted", reject: "Rejected", pending: "Pending" };
// Cards are built in chunks as the list scrolls: a long document can carry thousands of findings.
const CHUNK = 100;

export class FindingsView {
  constructor(model, documentView) {
    this.model = model;
    this.doc = documentView;
    this.list = document.getElementById("finding-list");
    this.summary = document.getElementById("filter-summary");
    this.empty = document.getElementById("finding-empty");
    this.filters = {
      text: document.getElementById("filter-text"),
      type: document.getElementById("filter-type"),
      risk: document.getElementById("filter-risk"),
      decision: document.getElementById("filter-decision"),
      checkpoint: document.getElementById("filter-checkpoint"),
      confidence: document.getElementById("filter-confidence"),
      sort: document.getElementById("filter-sort"),
    };
    this.confidenceOut = document.getElementById("filter-confidence-value");
    this.checkpointNames = new Map(
      [...this.filters.checkpoint.options].filter((o) => o.value).map((o) => [o.value, { name: o.textContent, good: o.title }]),
    );
    this.current = null;
    this.shown = [];
    this.position = new Map();
    this.rendered = 0;
    this.busy = new Set();
    this.panel = document.getElementById("panel-findings");
    this.more = document.getElementById("finding-more");
    this.more.addEventListener("click", () => this.renderMore(CHUNK));
    if ("IntersectionObserver" in window) {
      new IntersectionObserver(
        (entries) => {
          if (entries.some((e) => e.isIntersecting)) this.fillPanel();
        },
        { root: this.panel, rootMargin: "0px 0px 600px 0px" },
      ).observe(this.more);
    }
    const form = document.getElementById("filters");
    form.addEventListener("input", () => this.render());
    form.addEventListener("change", () => this.render());
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("reset", () => setTimeout(() => this.render(), 0));
    this.toggle = document.getElementById("filter-toggle");
    this.grid = document.getElementById("filter-grid");
    this.toggle.addEventListener("click", () => this.showFilters(this.grid.hidden));
    this.list.addEventListener("click", (event) => this.clicked(event));
    this.list.addEventListener("keydown", (event) => this.editorKeys(event));
    this.list.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.classList.contains("finding")) {
        event.preventDefault();
        this.select(event.target.dataset.id, { focusMark: true });
      }
    });
  }

  // --- filtering and rendering ---

  matches(f) {
    const v = this.filters;
    if (v.type.value && f.type !== v.type.value) return false;
    if (v.risk.value && f.risk !== v.risk.value) return false;
    if (!v.decision.value && carriedRejection(f)) return false; // judged already: not again
    if (v.decision.value && v.decision.value !== "all" && decisionOf(f) !== v.decision.value) return false;
    if (v.checkpoint.value && !(f.checkpoints || []).includes(v.checkpoint.value)) return false;
    if (shownConfidence(f) + 1e-9 < Number(v.confidence.value)) return false;
    const needle = v.text.value.trim().toLowerCase();
    if (needle) {
      const names = (f.checkpoints || []).map((c) => this.checkpointName(c));
      const hay = [f.title, f.description, f.suggestion, f.span && f.span.quote, f.rule, ...names, ...(f.questions || [])]
        .join("\n")
        .toLowerCase();
      if (!hay.includes(needle)) return false;
    }
    return true;
  }

  showFilters(open) {
    this.grid.hidden = !open;
    this.toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  activeFilters() {
    const v = this.filters;
    return [v.type.value, v.risk.value, v.decision.value, v.checkpoint.value, Number(v.confidence.value) > 0].filter(Boolean)
      .length;
  }

  checkpointName(id) {
    const known = this.checkpointNames.get(id);
    return known ? known.name : pretty(id);
  }

  render() {
    this.confidenceOut.textContent = `${Math.round(Number(this.filters.confidence.value) * 100)}%`;
    const active = this.activeFilters();
    const badge = document.getElementById("filter-active");
    badge.textContent = String(active);
    badge.hidden = active === 0;
    this.toggle.setAttribute("aria-label", active ? `Filters, ${active} active` : "Filters");
    const ordered = this.model.sorted(this.filters.sort.value);
    this.shown = ordered.filter((f) => this.matches(f)).map((f) => f.id);
    this.position = new Map(this.shown.map((id, i) => [id, i]));
    this.rendered = 0;
    this.list.replaceChildren();
    this.renderMore(CHUNK);
    const total = this.model.findings.length;
    this.summary.textContent =
      this.shown.length === total ? `${total} finding${total === 1 ? "" : "s"}` : `Showing ${this.shown.length} of ${total} findings`;
    const carried = this.filters.decision.value ? 0 : this.model.findings.filter(carriedRejection).length;
    if (carried) this.summary.textContent += ` (${carried} rejected in an earlier version hidden: choose Decision "All" to see them)`;
    this.empty.hidden = this.shown.length > 0 || total === 0;
    if (total === 0) this.summary.textContent = "No findings: nothing to triage.";
    if (this.current && !this.position.has(this.current)) this.current = null;
    this.doc.highlight(this.shown);
    this.markCurrent();
  }

  renderMore(count) {
    const upto = Math.min(this.shown.length, this.rendered + count);
    const items = [];
    for (let i = this.rendered; i < upto; i += 1) {
      items.push(h("li", { class: "finding-item" }, this.card(this.model.get(this.shown[i]))));
    }
    this.list.append(...items);
    this.rendered = upto;
    const left = this.shown.length - this.rendered;
    this.more.hidden = left <= 0;
    this.more.textContent = `Show ${Math.min(left, CHUNK)} more of ${left} remaining`;
  }

  /** Keep building cards while the end of the list is (nearly) in view. */
  fillPanel() {
    for (let guard = 0; guard < 50 && !this.more.hidden; guard += 1) {
      const bottom = this.panel.getBoundingClientRect().bottom + 600;
      if (this.more.getBoundingClientRect().top > bottom) break;
      this.renderMore(CHUNK);
    }
  }

  card(f) {
    const decision = decisionOf(f);
    const titleId = `ft-${f.id}`;
    const where = this.whereText(f);
    const text = f.decision && f.decision.text;
    const checkpoints = (f.checkpoints || []).map((c) => {
      const known = this.checkpointNames.get(c);
      return h("li", { class: "chip chip-static", text: this.checkpointName(c), attrs: { title: known ? known.good : null } });
    });
    const editorId = `edit-${f.id}`;
    return h(
      "article",
      {
        class: `finding finding-${f.type} decision-${decision}`,
        attrs: { id: `finding-${f.id}`, tabindex: "-1", "aria-labelledby": titleId },
        dataset: { id: f.id, engine: f.engine || "" },
      },
      h(
        "div",
        { class: "finding-head" },
        h("span", { class: `badge badge-type badge-${f.type}`, text: pretty(f.type) }),
        h("span", { class: `badge badge-risk risk-${f.risk}`, text: `${pretty(f.risk)} risk` }),
        h("span", { class: "confidence", text: `${Math.round(shownConfidence(f) * 100)}% confidence` }),
        f.learned ? h("span", { class: "confidence confidence-basis", text: confidenceBasis(f) }) : null,
        f.custom ? h("span", { class: "badge badge-custom", text: "Yours" }) : null,
        !f.custom && f.engine && f.engine !== "offline"
          ? h("span", { class: "badge badge-ai", text: "AI", attrs: { title: `Found by the AI model ${f.engine}` } })
          : null,
      ),
      h(
        "h3",
        { class: "finding-title" },
        h("button", { class: "link-button", text: f.title, attrs: { type: "button", id: titleId }, dataset: { action: "show" } }),
      ),
      where ? h("p", { class: "finding-where", text: where }) : null,
      f.span && f.span.quote ? h("blockquote", { class: "quote", text: f.span.quote }) : null,
      !f.span ? h("p", { class: "finding-missing", text: "About something missing or the section as a whole" }) : null,
      f.description ? h("p", { class: "finding-description", text: f.description }) : null,
      f.suggestion
        ? h("div", { class: "finding-block" }, h("h4", { text: "Suggestion" }), h("p", { text: f.suggestion }))
        : null,
      f.questions && f.questions.length
        ? h(
            "details",
            { class: "finding-block finding-questions" },
            h("summary", { text: `Questions to ask (${f.questions.length})` }),
            h("ul", { class: "questions" }, f.questions.map((q) => h("li", { text: q }))),
          )
        : null,
      checkpoints.length ? h("ul", { class: "chips", attrs: { "aria-label": "Checkpoints" } }, checkpoints) : null,
      text
        ? h("div", { class: "finding-block finding-wording" }, h("h4", { text: "Your wording" }), h("p", { text }))
        : null,
      h(
        "div",
        { class: "finding-editor", attrs: { hidden: true } },
        h("label", { text: "Your wording for the comment", attrs: { for: editorId } }),
        h("textarea", { attrs: { id: editorId, rows: "4", maxlength: "5000" } }),
        h(
          "div",
          { class: "editor-actions" },
          h("button", { class: "button button-small", text: "Cancel", attrs: { type: "button" }, dataset: { action: "cancel-edit" } }),
          h("button", {
            class: "button button-small button-primary",
            text: "Accept with this wording",
            attrs: { type: "button" },
            dataset: { action: "save-edit" },
          }),
        ),
      ),
      h(
        "div",
        { class: "finding-actions", attrs: { role: "group", "aria-label": "Decision" } },
        this.actionButton("accept", "Accept", decision === "accept", titleId),
        this.actionButton("reject", "Reject", decision === "reject", titleId),
        this.actionButton("edit", "Edit", false, titleId),
        decision === "pending" ? null : this.actionButton("reset", "Undo", false, titleId),
        h("span", {
          class: `decision-badge decision-badge-${decision}`,
          text: DECISION_LABEL[decision] + (text ? " · edited" : ""),
        }),
        this.decidedBy(f, decision),
        this.carriedFrom(f),
      ),
    );
  }

  /** "accepted by Ann Smith at 2 Dec 2026, 14:05": who decided, when the server knows. */
  decidedBy(f, decision) {
    const by = f.decision && f.decision.by;
    if (!by || decision === "pending") return null;
    const at = f.decision.at ? new Date(f.decision.at).toLocaleString() : "";
    const verb = decision === "accept" ? "accepted" : "rejected";
    return h("span", {
      class: "decided-by",
      text: `${verb} by ${by.name || by.email || by.sub}${at ? ` at ${at}` : ""}`,
      attrs: { title: by.email || by.sub },
    });
  }

  /** "carried from version 1": decided on an earlier version, where the same finding was. */
  carriedFrom(f) {
    const from = f.decision && f.decision.carried_from;
    if (!from) return null;
    return h("span", {
      class: "carried-from",
      text: `carried from version ${from.version}`,
      attrs: { title: `Decided on version ${from.version}, where the same finding was; Undo to judge it again` },
    });
  }

  actionButton(action, label, pressed, describedBy) {
    const attrs = { type: "button", "aria-describedby": describedBy };
    if (action === "accept" || action === "reject") attrs["aria-pressed"] = pressed ? "true" : "false";
    return h("button", { class: `button button-small action-${action}`, text: label, attrs, dataset: { action } });
  }

  whereText(f) {
    const section = f.section_id ? this.model.sections.find((s) => s.id === f.section_id) : null;
    const parts = [];
    parts.push(section ? section.title || "Untitled section" : "Whole document");
    if (f.span) parts.push(`¶${f.span.paragraph + 1}`);
    return parts.join(" · ");
  }

  cardOf(id) {
    const at = this.position.get(id);
    if (at !== undefined && at >= this.rendered) this.renderMore(at - this.rendered + CHUNK);
    return document.getElementById(`finding-${id}`);
  }

  /** Swap one card for a fresh one, keeping keyboard focus on the same control. */
  refresh(id) {
    const old = this.cardOf(id);
    if (!old) return;
    const focused = document.activeElement;
    const action = old.contains(focused) && focused.dataset ? focused.dataset.action : null;
    const hadFocus = focused === old;
    const fresh = this.card(this.model.get(id));
    old.replaceWith(fresh);
    if (id === this.current) fresh.classList.add("is-current");
    if (action) {
      const same = fresh.querySelector(`[data-action="${action}"]`);
      (same || fresh).focus();
    } else if (hadFocus) {
      fresh.focus();
    }
  }

  // --- the current finding ---

  markCurrent() {
    for (const el of this.list.querySelectorAll(".finding.is-current")) {
      el.classList.remove("is-current");
      el.removeAttribute("aria-current");
    }
    const card = this.current && this.cardOf(this.current);
    if (card) {
      card.classList.add("is-current");
      card.setAttribute("aria-current", "true");
    }
  }

  select(id, { focusCard = false, focusMark = false, reveal = true } = {}) {
    if (!this.model.get(id)) return;
    if (!this.position.has(id)) {
      // The finding is filtered out (e.g. chosen from a highlight): clear the filters to show it.
      document.getElementById("filters").reset();
      this.render();
    }
    this.current = id;
    this.markCurrent();
    const card = this.cardOf(id);
    if (card) card.scrollIntoView({ block: "nearest" });
    if (reveal) this.doc.reveal(id, { focus: focusMark });
    else this.doc.markActive(id);
    if (focusCard && card) card.focus({ preventScroll: true });
  }

  step(delta) {
    if (this.shown.length === 0) {
      announce("No findings match the filters.");
      return;
    }
    const at = this.position.has(this.current) ? this.position.get(this.current) : -1;
    let next;
    if (at < 0) next = delta > 0 ? 0 : this.shown.length - 1;
    else next = Math.min(this.shown.length - 1, Math.max(0, at + delta));
    if (at === next) announce(delta > 0 ? "That was the last finding." : "That was the first finding.");
    this.select(this.shown[next], { focusCard: true });
  }

  requireCurrent() {
    if (this.current && this.model.get(this.current)) return this.current;
    announce("Pick a finding first: press j, or click one.");
    return null;
  }

  // --- decisions ---

  async decide(id, action, text = null) {
    if (this.busy.has(id)) return;
    const finding = this.model.get(id);
    if (!finding) return;
    this.busy.add(id);
    const card = this.cardOf(id);
    if (card) card.setAttribute("aria-busy", "true");
    try {
      const url = `/api/v1/reviews/${encodeURIComponent(this.model.review.id)}/findings/${encodeURIComponent(id)}/decision`;
      const result = await api("POST", url, { action, text });
      this.model.setDecision(id, result.decision);
      const verb = { accept: text ? "Accepted with your wording" : "Accepted", reject: "Rejected", reset: "Decision undone" }[action];
      announce(`${verb}: ${finding.title}`);
    } catch (err) {
      announce(err.message, "error");
      if (card) card.removeAttribute("aria-busy");
    } finally {
      this.busy.delete(id);
    }
  }

  /** After a decision: refresh the card when it is shown and still matches; else re-filter (it may
   *  have left the list, or joined it when the filters changed while the decision was sent). */
  decided(id) {
    const f = this.model.get(id);
    if (this.matches(f) && this.position.has(id)) {
      this.refresh(id);
      this.doc.highlight(this.shown);
      return;
    }
    const at = this.position.get(id);
    const wasCurrent = this.current === id;
    const hadFocus = this.cardOf(id) && this.cardOf(id).contains(document.activeElement);
    this.render();
    if (wasCurrent && this.shown.length) {
      const next = this.shown[Math.min(at, this.shown.length - 1)];
      this.select(next, { focusCard: hadFocus, reveal: true });
    }
  }

  edit(id) {
    const card = this.cardOf(id);
    if (!card) return;
    const editor = card.querySelector(".finding-editor");
    const area = editor.querySelector("textarea");
    const f = this.model.get(id);
    area.value = (f.decision && f.decision.text) || [f.description, f.suggestion].filter(Boolean).join("\n\n");
    editor.hidden = false;
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  closeEditor(card) {
    const editor = card.querySelector(".finding-editor");
    editor.hidden = true;
    card.querySelector('[data-action="edit"]').focus();
  }

  editorKeys(event) {
    if (event.target.tagName !== "TEXTAREA") return;
    const card = event.target.closest(".finding");
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.closeEditor(card);
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      this.decide(card.dataset.id, "accept", event.target.value.trim() || null);
    }
  }

  clicked(event) {
    const card = event.target.closest(".finding");
    if (!card) return;
    const id = card.dataset.id;
    const button = event.target.closest("[data-action]");
    const action = button ? button.dataset.action : null;
    if (action === "accept" || action === "reject" || action === "reset") {
      this.current = id;
      this.markCurrent();
      this.decide(id, action);
    } else if (action === "edit") {
      this.current = id;
      this.markCurrent();
      this.edit(id);
    } else if (action === "cancel-edit") {
      this.closeEditor(card);
    } else if (action === "save-edit") {
      const value = card.querySelector(".finding-editor textarea").value.trim();
      this.decide(id, "accept", value || null);
    } else if (action === "show" || (!button && !event.target.closest("textarea, a, label"))) {
      if (window.getSelection().toString()) return; // copying text from the card
      this.select(id, { focusMark: true });
    }
  }
}
