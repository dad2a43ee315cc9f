// While the analysis runs: follow the progress stream (or poll) and reload once it has finished.
import { api, announce, showError } from "./app.js";

export function followProgress(reviewId) {
  const bar = document.getElementById("progress-bar");
  const fill = bar.querySelector(".progress-fill");
  const stage = document.getElementById("progress-stage");
  const count = document.getElementById("progress-count");
  const url = `/api/v1/reviews/${encodeURIComponent(reviewId)}/progress`;
  let finished = false;

  function update(data) {
    if (finished || !data) return;
    const p = data.progress || {};
    const total = Number(p.total) || 0;
    const done = Number(p.done) || 0;
    const pct = total ? Math.round((done / total) * 100) : 0;
    bar.setAttribute("aria-valuenow", String(pct));
    bar.setAttribute("aria-valuetext", `${pct}%`);
    fill.style.width = `${pct}%`;
    const text = String(p.stage || data.status || "").replace(/_/g, " ");
    stage.textContent = text.charAt(0).toUpperCase() + text.slice(1);
    count.textContent = `${done} of ${total}`;
    if (data.status === "done" || data.status === "failed") {
      finished = true;
      announce(data.status === "done" ? "Analysis finished; loading the findings." : "The analysis failed.");
      window.location.reload();
    }
  }

  function poll() {
    const tick = async () => {
      if (finished) return;
      try {
        update(await api("GET", url));
      } catch (err) {
        if (err.status >= 400 && err.status < 500) {
          finished = true; // gone or no longer ours: polling again will not help
          showError(document.getElementById("page-error"), err.message);
          return;
        }
        // Otherwise a passing network hiccup: keep polling.
      }
      if (!finished) setTimeout(tick, 1000);
    };
    tick();
  }

  if (!("EventSource" in window)) {
    poll();
    return;
  }
  const source = new EventSource(url);
  source.onmessage = (event) => {
    try {
      update(JSON.parse(event.data));
    } catch (err) {
      // ignore a malformed event; the next one (or the poll) carries the state
    }
    if (finished) source.close();
  };
  source.onerror = () => {
    source.close();
    if (!finished) poll();
  };
}

export function wireRetry(reviewId) {
  const button = document.getElementById("retry-button");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Retrying…";
    try {
      await api("POST", `/api/v1/reviews/${encodeURIComponent(reviewId)}/retry`);
      // The job needs a moment to start; wait until the review is no longer "failed" to reload.
      const url = `/api/v1/reviews/${encodeURIComponent(reviewId)}/progress`;
      const deadline = Date.now() + 10000;
      while (Date.now() < deadline) {
        const state = await api("GET", url);
        if (state.status !== "failed") break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      window.location.reload();
    } catch (err) {
      showError(document.getElementById("page-error"), err.message);
      button.disabled = false;
      button.textContent = "Retry the analysis";
    }
  });
}
