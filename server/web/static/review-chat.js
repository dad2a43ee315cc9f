// "Ask the document": the conversation so far, new questions, and citations that jump to the text.
import { api, announce, formatDate, h } from "./app.js";

export class ChatView {
  constructor(review, documentView) {
    this.review = review;
    this.doc = documentView;
    this.log = document.getElementById("chat-log");
    this.form = document.getElementById("chat-form");
    this.input = document.getElementById("chat-input");
    this.send = document.getElementById("chat-send");
    for (const turn of review.chat || []) this.append(turn);
    if (!(review.chat || []).length) {
      this.log.append(
        h("li", { class: "chat-hint", text: "Ask about a section, a fact, a finding or a checkpoint. Answers cite the paragraphs they come from." }),
      );
    }
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.ask(this.input.value);
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.ask(this.input.value);
      }
    });
    document.getElementById("chat-suggestions").addEventListener("click", (event) => {
      const chip = event.target.closest("[data-question]");
      if (chip) this.ask(chip.dataset.question);
    });
    this.log.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-cite]");
      if (!link) return;
      event.preventDefault();
      const paragraph = link.dataset.paragraph === "" ? null : Number(link.dataset.paragraph);
      this.doc.scrollToParagraph(paragraph, link.dataset.section || null);
    });
  }

  append(turn) {
    const hint = this.log.querySelector(".chat-hint");
    if (hint) hint.remove();
    const question = h("li", { class: "chat-turn chat-question" }, h("p", { class: "chat-text", text: turn.message }));
    const answer = this.answerItem(turn);
    this.log.append(question, answer);
    return answer;
  }

  answerItem(turn) {
    const seen = new Set();
    const citations = (turn.citations || []).filter((c) => {
      if (!c || (!c.section_id && c.paragraph == null)) return false;
      const key = `${c.section_id}|${c.paragraph}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const cites = citations.length
      ? h(
          "ul",
          { class: "citations", attrs: { "aria-label": "Sources" } },
          citations.map((c) => {
            const label = [c.section || "Document", c.paragraph != null ? `¶${c.paragraph + 1}` : null].filter(Boolean).join(" · ");
            const href = c.paragraph != null ? `#p-${c.paragraph}` : `#section-${c.section_id}`;
            return h(
              "li",
              {},
              h("a", {
                text: label,
                attrs: { href },
                dataset: { cite: "1", paragraph: c.paragraph != null ? c.paragraph : "", section: c.section_id || "" },
              }),
            );
          }),
        )
      : null;
    return h(
      "li",
      { class: "chat-turn chat-answer" },
      h("p", { class: "chat-text", text: turn.answer }),
      turn.notice ? h("p", { class: "chat-notice", attrs: { role: "note" }, text: turn.notice }) : null,
      cites,
      h(
        "p",
        { class: "chat-meta" },
        turn.at ? h("time", { text: formatDate(turn.at), attrs: { datetime: turn.at } }) : null,
        turn.engine ? h("span", { class: "chat-engine", text: ` · ${turn.engine}` }) : null,
      ),
    );
  }

  async ask(raw) {
    const message = (raw || "").trim();
    if (!message || this.send.disabled) return;
    this.send.disabled = true;
    this.input.value = "";
    const hint = this.log.querySelector(".chat-hint");
    if (hint) hint.remove();
    const question = h("li", { class: "chat-turn chat-question" }, h("p", { class: "chat-text", text: message }));
    const waiting = h("li", { class: "chat-turn chat-answer is-waiting" }, h("p", { class: "chat-text", text: "Thinking…" }));
    this.log.append(question, waiting);
    waiting.scrollIntoView({ block: "nearest" });
    try {
      const reply = await api("POST", `/api/v1/reviews/${encodeURIComponent(this.review.id)}/chat`, { message });
      const answer = this.answerItem({ message, ...reply, at: new Date().toISOString() });
      waiting.replaceWith(answer);
      answer.scrollIntoView({ block: "nearest" });
    } catch (err) {
      waiting.replaceWith(h("li", { class: "chat-turn chat-answer chat-error", attrs: { role: "alert" }, text: err.message }));
      this.input.value = message;
      announce(err.message, "error");
    } finally {
      this.send.disabled = false;
      this.input.focus();
    }
  }
}
