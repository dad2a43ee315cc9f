// The review's findings and decisions in the browser, kept in step with the server's answers.

export const TYPES = ["critical", "important", "suggestion", "positive"];
export const RISKS = ["high", "medium", "low"];
const TYPE_RANK = { critical: 0, important: 1, suggestion: 2, positive: 3 };
const RISK_RANK = { high: 0, medium: 1, low: 2 };

/** Python counts code points, JavaScript strings count UTF-16 units; spans travel in code points. */
const ASTRAL = /[\uD800-\uDFFF]/;

export function codePointsToUnits(text, points) {
  if (!ASTRAL.test(text)) return points;
  return Array.from(text).slice(0, points).join("").length;
}

export function unitsToCodePoints(text, units) {
  if (!ASTRAL.test(text)) return units;
  return Array.from(text.slice(0, units)).length;
}

/** The confidence a finding shows: the learned one once its rule has decisions (server/learning.py). */
export function shownConfidence(finding) {
  return Number(finding.learned ? finding.learned.confidence : finding.confidence);
}

/** On what a learned confidence rests: "90% configured · accepted 3 of 20"; "" when not learned. */
export function confidenceBasis(finding) {
  const l = finding.learned;
  return l ? `${Math.round(Number(finding.confidence) * 100)}% configured · accepted ${l.accepted} of ${l.decided}` : "";
}

export function decisionOf(finding) {
  const action = finding.decision && finding.decision.action;
  return action === "accept" || action === "reject" ? action : "pending";
}

export class ReviewModel {
  constructor(review) {
    this.review = review;
    this.findings = review.findings.slice();
    this.byId = new Map(this.findings.map((f) => [f.id, f]));
    this.paragraphs = new Map();
    this.sectionOrder = new Map();
    this.paragraphSection = new Map();
    const sections = (review.document && review.document.sections) || [];
    sections.forEach((section, i) => {
      this.sectionOrder.set(section.id, i);
      for (const p of section.paragraphs) {
        this.paragraphs.set(p.index, p);
        this.paragraphSection.set(p.index, section.id);
      }
    });
    this.sections = sections;
    this.listeners = [];
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  emit(change) {
    for (const fn of this.listeners) fn(change);
  }

  get(id) {
    return this.byId.get(id);
  }

  setDecision(id, decision) {
    const finding = this.byId.get(id);
    if (!finding) return;
    finding.decision = decision || null;
    this.emit({ kind: "decision", id });
  }

  add(finding) {
    this.findings.push(finding);
    this.byId.set(finding.id, finding);
    this.emit({ kind: "added", id: finding.id });
  }

  /** Where a finding's quote sits in its paragraph, in UTF-16 units, or null when it cannot be found. */
  located(finding) {
    const span = finding.span;
    if (!span) return null;
    const para = this.paragraphs.get(span.paragraph);
    if (!para || !span.quote) return null;
    const text = para.text;
    const start = codePointsToUnits(text, span.start);
    if (text.slice(start, start + span.quote.length) === span.quote) {
      return { paragraph: span.paragraph, start, end: start + span.quote.length };
    }
    const at = text.indexOf(span.quote);
    return at >= 0 ? { paragraph: span.paragraph, start: at, end: at + span.quote.length } : null;
  }

  counts() {
    const byType = Object.fromEntries(TYPES.map((t) => [t, 0]));
    const byRisk = Object.fromEntries(RISKS.map((r) => [r, 0]));
    const byDecision = { accept: 0, reject: 0, pending: 0 };
    for (const f of this.findings) {
      byType[f.type] = (byType[f.type] || 0) + 1;
      byRisk[f.risk] = (byRisk[f.risk] || 0) + 1;
      byDecision[decisionOf(f)] += 1;
    }
    return { total: this.findings.length, by_type: byType, by_risk: byRisk, by_decision: byDecision };
  }

  documentKey(f) {
    const section = f.section_id == null ? -1 : this.sectionOrder.get(f.section_id) ?? 1e6;
    const paragraph = f.span ? f.span.paragraph : -1;
    const start = f.span ? f.span.start : -1;
    return [section, paragraph, start, TYPE_RANK[f.type] ?? 9];
  }

  sorted(order) {
    const list = this.findings.slice();
    const compare = (a, b) => {
      for (let i = 0; i < a.length; i += 1) {
        if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      }
      return 0;
    };
    if (order === "severity") {
      const key = (f) => [TYPE_RANK[f.type] ?? 9, RISK_RANK[f.risk] ?? 9, -shownConfidence(f), ...this.documentKey(f)];
      return list.sort((a, b) => compare(key(a), key(b)));
    }
    return list.sort((a, b) => compare(this.documentKey(a), this.documentKey(b)));
  }

  /** Per section id ("" for the whole document): open non-positive findings and their worst risk. */
  openIssuesBySection() {
    const result = new Map();
    for (const f of this.findings) {
      if (f.type === "positive" || decisionOf(f) === "reject") continue;
      const key = f.section_id ?? "";
      const entry = result.get(key) || { risk: null, count: 0 };
      entry.count += 1;
      if (entry.risk === null || RISK_RANK[f.risk] < RISK_RANK[entry.risk]) entry.risk = f.risk;
      result.set(key, entry);
    }
    return result;
  }
}
