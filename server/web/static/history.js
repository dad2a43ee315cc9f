// History: older pages load as the reader scrolls to the end (or presses the button); deleting a
// review (after confirmation) removes its row.
import { api, announce, showError } from "./app.js";

const table = document.getElementById("history-table");
const errorBox = document.getElementById("history-error");
const more = document.getElementById("history-more");
let loading = false;

// The next page's rows come rendered (and escaped) by the server, with the filters of this page.
async function loadMore() {
  const cursor = more.dataset.nextCursor;
  if (!cursor || loading) return;
  loading = true;
  const params = new URLSearchParams(window.location.search);
  params.set("cursor", cursor);
  try {
    const page = await api("GET", `/history/rows?${params}`);
    document.getElementById("history-rows").insertAdjacentHTML("beforeend", page.html);
    more.dataset.nextCursor = page.next_cursor || "";
    more.hidden = !page.next_cursor;
    loading = false;
    // Still in view (a tall screen): the observer will not fire again, so go on.
    if (!more.hidden && more.getBoundingClientRect().top < window.innerHeight) loadMore();
  } catch (err) {
    loading = false;
    showError(errorBox, err.message);
  }
}

if (more) {
  document.getElementById("history-more-button").addEventListener("click", loadMore);
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadMore();
  }).observe(more);
}

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
