// The document pane: quote highlights, the section navigator and adding a finding on selected text.
// Paragraph text is rebuilt from the review data with text nodes and <mark> elements only.
import { api, announce, clearError, h, pretty, showError } from "./app.js";
import { unitsToCodePoints } from "./review-model.js";

const TYPE_RANK = { critical: 0, important: 1, suggestion: 2, positive: 3 };
const reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

export class DocumentView {
  constructor(model, { onMarkClick, onFindingAdded }) {
    this.model = model;
    this.onMarkClick = onMarkClick;
    this.onFindingAdded = onFindingAdded;
    this.pane = document.getElementById("document-pane");
    this.root = document.getElementById("document");
    this.addButton = document.getElementById("add-finding-button");
    this.dialog = document.getElementById("add-dialog");
    this.marked = new Set(); // paragraphs currently holding marks
    this.visible = new Set(); // finding ids whose quotes are highlighted
    this.active = null;
    this.pending = null; // the selection the add dialog is about
    this.root.addEventListener("click", (event) => this.clickedMark(event));
    this.wireSelection();
    this.wireAddDialog();
    this.wireNavigator();
  }

  paragraphElement(index) {
    return document.getElementById(`p-${Number(index)}`);
  }

  /** Highlight the quotes of `ids` (the findings the filters show); others are left as plain text. */
  highlight(ids) {
    this.visible = new Set(ids);
    if (this.active) this.visible.add(this.active);
    const byParagraph = new Map();
    for (const id of this.visible) {
      const finding = this.model.get(id);
      const where = finding && this.model.located(finding);
      if (!where) continue;
      if (!byParagraph.has(where.paragraph)) byParagraph.set(where.paragraph, []);
      byParagraph.get(where.paragraph).push({ finding, start: where.start, end: where.end });
    }
    for (const index of this.marked) {
      if (!byParagraph.has(index)) this.renderParagraph(index, []);
    }
    this.marked = new Set(byParagraph.keys());
    for (const [index, spans] of byParagraph) this.renderParagraph(index, spans);
    this.markActive(this.active);
  }

  /**
   * Split the paragraph at every span boundary; each piece covered by one or more findings becomes a
   * <mark> listing them all, so overlapping quotes never nest and every character stays clickable.
   */
  renderParagraph(index, spans) {
    const element = this.paragraphElement(index);
    const para = this.model.paragraphs.get(index);
    if (!element || !para) return;
    const text = para.text;
    if (spans.length === 0) {
      element.textContent = text;
      return;
    }
    const cuts = new Set([0, text.length]);
    for (const s of spans) {
      cuts.add(Math.max(0, Math.min(text.length, s.start)));
      cuts.add(Math.max(0, Math.min(text.length, s.end)));
    }
    const points = [...cuts].sort((a, b) => a - b);
    const pieces = [];
    for (let i = 0; i < points.length - 1; i += 1) {
      const from = points[i];
      const to = points[i + 1];
      if (from === to) continue;
      const covering = spans.filter((s) => s.start <= from && s.end >= to).map((s) => s.finding);
      const piece = text.slice(from, to);
      if (covering.length === 0) {
        pieces.push(document.createTextNode(piece));
        continue;
      }
      covering.sort((a, b) => (TYPE_RANK[a.type] ?? 9) - (TYPE_RANK[b.type] ?? 9));
      const worst = covering[0];
      const decided = covering.every((f) => f.decision && f.decision.action === "reject") ? " is-rejected" : "";
      const accepted = covering.some((f) => f.decision && f.decision.action === "accept") ? " is-accepted" : "";
      const label = covering.map((f) => `${pretty(f.type)}: ${f.title}`).join("\n");
      pieces.push(
        h("mark", {
          class: `hl hl-${worst.type}${covering.length > 1 ? " hl-overlap" : ""}${decided}${accepted}`,
          text: piece,
          attrs: { tabindex: "-1", title: label },
          dataset: { findings: covering.map((f) => f.id).join(" ") },
        }),
      );
    }
    element.replaceChildren(...pieces);
  }

  marksOf(id) {
    return [...this.root.querySelectorAll("mark[data-findings]")].filter((m) =>
      m.dataset.findings.split(" ").includes(id),
    );
  }

  markActive(id) {
    for (const m of this.root.querySelectorAll("mark.is-active")) m.classList.remove("is-active");
    this.active = id;
    if (!id) return [];
    const marks = this.marksOf(id);
    for (const m of marks) m.classList.add("is-active");
    return marks;
  }

  /** Bring a finding's quote (or its section, for findings about something missing) into view. */
  reveal(id, { focus = false } = {}) {
    const finding = this.model.get(id);
    if (!finding) return;
    if (!this.visible.has(id)) this.highlight([...this.visible, id]);
    const marks = this.markActive(id);
    let target = marks[0];
    if (!target) {
      const sectionEl = finding.section_id ? document.getElementById(`section-${finding.section_id}`) : null;
      target = (finding.span && this.paragraphElement(finding.span.paragraph)) || sectionEl || this.root;
      this.flash(target);
    }
    target.scrollIntoView({ block: "center", behavior: reducedMotion ? "auto" : "smooth" });
    if (focus) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
  }

  scrollToParagraph(index, sectionId) {
    const target = (index != null && this.paragraphElement(index)) ||
      (sectionId && document.getElementById(`section-${sectionId}`));
    if (!target) return;
    target.scrollIntoView({ block: "center", behavior: reducedMotion ? "auto" : "smooth" });
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    this.flash(target);
  }

  flash(element) {
    element.classList.remove("flash");
    void element.offsetWidth; // restart the animation
    element.classList.add("flash");
    setTimeout(() => element.classList.remove("flash"), 1600);
  }

  clickedMark(event) {
    const mark = event.target.closest("mark[data-findings]");
    if (!mark || !this.root.contains(mark)) return;
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed && selection.toString().trim()) return; // selecting, not picking
    const ids = mark.dataset.findings.split(" ").filter((id) => this.visible.has(id));
    if (ids.length === 0) return;
    // Repeated clicks on overlapping quotes step through the findings that share them.
    const at = ids.indexOf(this.active);
    this.onMarkClick(ids[(at + 1) % ids.length]);
  }

  // --- section navigator ---

  wireNavigator() {
    const nav = document.getElementById("section-pane");
    nav.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-section-link]");
      if (!link) return;
      event.preventDefault();
      const id = link.dataset.sectionLink;
      const target = id ? document.getElementById(`section-${id}`) : this.root;
      if (!target) return;
      target.scrollIntoView({ block: "start", behavior: reducedMotion ? "auto" : "smooth" });
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    });
    if (!("IntersectionObserver" in window)) return;
    const links = new Map(
      [...nav.querySelectorAll("a[data-section-link]")].map((a) => [a.dataset.sectionLink, a]),
    );
    const seen = new Map();
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) seen.set(entry.target.dataset.section, entry.isIntersecting);
        const first = this.model.sections.find((s) => seen.get(s.id));
        if (!first) return;
        for (const [id, link] of links) {
          if (id !== first.id) {
            link.removeAttribute("aria-current");
          } else if (!link.hasAttribute("aria-current")) {
            link.setAttribute("aria-current", "location");
            link.scrollIntoView({ block: "nearest" });
          }
        }
      },
      // The section under a band near the top of the document pane is the one being read.
      { root: this.pane, rootMargin: "-12% 0px -70% 0px" },
    );
    for (const section of this.root.querySelectorAll("section[data-section]")) observer.observe(section);
  }

  updateBadges() {
    const open = this.model.openIssuesBySection();
    for (const badge of document.querySelectorAll("[data-risk-badge]")) {
      const { risk, count: n } = open.get(badge.dataset.riskBadge) || { risk: null, count: 0 };
      badge.className = `risk-dot${risk ? ` risk-${risk}` : ""}`;
      badge.textContent = n ? String(n) : "";
      badge.title = risk ? `${n} open issue${n === 1 ? "" : "s"}, worst risk ${risk}` : "No open issues";
      badge.setAttribute("aria-label", badge.title);
      badge.setAttribute("role", "img");
    }
  }

  // --- adding a finding on selected text ---

  /** The selection clamped to the one paragraph it covers, or null (nothing, or several paragraphs). */
  selectedQuote() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!range.intersectsNode(this.root)) return null;
    const hits = [];
    for (const element of this.root.querySelectorAll("[data-paragraph]")) {
      if (!range.intersectsNode(element)) continue;
      const part = document.createRange();
      part.selectNodeContents(element);
      if (part.compareBoundaryPoints(Range.START_TO_START, range) < 0) {
        part.setStart(range.startContainer, range.startOffset);
      }
      if (part.compareBoundaryPoints(Range.END_TO_END, range) > 0) {
        part.setEnd(range.endContainer, range.endOffset);
      }
      const text = part.toString();
      if (text.trim()) hits.push({ element, part, text });
    }
    if (hits.length !== 1) return null;
    const { element, part, text } = hits[0];
    const before = document.createRange();
    before.setStart(element, 0);
    before.setEnd(part.startContainer, part.startOffset);
    const lead = text.length - text.trimStart().length;
    const quote = text.trim();
    const index = Number(element.dataset.paragraph);
    const para = this.model.paragraphs.get(index);
    if (!para) return null;
    const start = before.toString().length + lead;
    if (para.text.slice(start, start + quote.length) !== quote) return null;
    return {
      element,
      range: part,
      excluded: element.classList.contains("para-excluded"),
      section_id: this.model.paragraphSection.get(index),
      paragraph: index,
      start: unitsToCodePoints(para.text, start),
      quote,
    };
  }

  wireSelection() {
    let timer = null;
    document.addEventListener("selectionchange", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.placeAddButton(), 120);
    });
    this.addButton.addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
    this.addButton.addEventListener("click", () => this.openAddDialog());
  }

  placeAddButton() {
    if (this.dialog.open) return;
    const picked = this.selectedQuote();
    if (!picked || picked.excluded) {
      this.addButton.hidden = true;
      this.current = null;
      return;
    }
    this.current = picked;
    const rects = picked.range.getClientRects();
    const rect = rects.length ? rects[rects.length - 1] : picked.range.getBoundingClientRect();
    const paneRect = this.pane.getBoundingClientRect();
    this.addButton.hidden = false;
    const width = this.addButton.offsetWidth || 120;
    const left = Math.min(
      Math.max(8, rect.right - paneRect.left + this.pane.scrollLeft - width / 2),
      this.pane.clientWidth - width - 8,
    );
    this.addButton.style.top = `${rect.bottom - paneRect.top + this.pane.scrollTop + 8}px`;
    this.addButton.style.left = `${left}px`;
  }

  openAddDialog() {
    const picked = this.current || this.selectedQuote();
    if (!picked) {
      announce("Select some text in one paragraph of the document first.", "error");
      return;
    }
    if (picked.excluded) {
      announce("That paragraph is not reviewed; select text in a reviewed paragraph.", "error");
      return;
    }
    this.pending = picked;
    document.getElementById("add-quote").textContent = picked.quote;
    document.getElementById("add-description").value = "";
    document.getElementById("add-suggestion").value = "";
    clearError(document.getElementById("add-error"));
    this.addButton.hidden = true;
    this.dialog.showModal();
    document.getElementById("add-description").focus();
  }

  wireAddDialog() {
    const form = document.getElementById("add-form");
    const errorBox = document.getElementById("add-error");
    const save = document.getElementById("add-save");
    document.getElementById("add-cancel").addEventListener("click", () => this.dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const description = document.getElementById("add-description").value.trim();
      if (!description) {
        showError(errorBox, "Describe the finding before adding it.");
        document.getElementById("add-description").focus();
        return;
      }
      const p = this.pending;
      const body = {
        section_id: p.section_id,
        paragraph: p.paragraph,
        start: p.start,
        quote: p.quote,
        type: document.getElementById("add-type").value,
        risk: document.getElementById("add-risk").value,
        description,
        suggestion: document.getElementById("add-suggestion").value.trim(),
      };
      save.disabled = true;
      try {
        const finding = await api("POST", `/api/v1/reviews/${encodeURIComponent(this.model.review.id)}/findings`, body);
        this.dialog.close();
        window.getSelection().removeAllRanges();
        this.onFindingAdded(finding);
      } catch (err) {
        showError(errorBox, err.message);
      } finally {
        save.disabled = false;
      }
    });
    this.dialog.addEventListener("close", () => {
      this.pending = null;
    });
  }
}
