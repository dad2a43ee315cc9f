// History: deleting a review (after confirmation) removes its row.
import { api, announce, showError } from "./app.js";

const table = document.getElementById("history-table");
const errorBox = document.getElementById("history-error");

if (table) {
  table.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-delete]");
    if (!button) return;
    const id = button.dataset.delete;
    const title = button.dataset.title;
    if (!window.confirm(`Delete the review of “${title}”? Its findings and decisions are removed for good.`)) return;
    button.disabled = true;
    try {
      await api("DELETE", `/api/v1/reviews/${encodeURIComponent(id)}`);
      const row = button.closest("tr");
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      announce(`Deleted the review of ${title}.`);
      if (next) {
        const focusable = next.querySelector("button[data-delete]");
        if (focusable) focusable.focus();
      }
      if (!table.querySelector("tbody tr")) {
        table.closest(".table-card").hidden = true;
        document.getElementById("history-empty").hidden = false;
      }
    } catch (err) {
      button.disabled = false;
      showError(errorBox, err.message);
    }
  });
}
