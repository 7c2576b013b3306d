// The data export page: follows an export that is being prepared and reloads the page once it is finished,
// so the download appears. Without this script a <noscript> meta refresh reloads the page instead.
"use strict";

const POLL_MS = 2000;
const PERCENT = new Intl.NumberFormat(document.documentElement.lang || "de", { style: "percent" });

function follow(item) {
  const url = item.dataset.statusUrl;
  const bar = item.querySelector("progress");
  const label = item.querySelector("[data-progress-label]");
  const tick = async () => {
    let state;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      state = await response.json();
    } catch {
      // A network hiccup or a restart: try again a little later.
      window.setTimeout(tick, POLL_MS * 3);
      return;
    }
    if (bar) {
      bar.value = state.progress;
    }
    if (label) {
      label.textContent = PERCENT.format(state.progress / 100);
    }
    if (state.status === "done" || state.status === "failed") {
      window.location.reload();
      return;
    }
    window.setTimeout(tick, POLL_MS);
  };
  window.setTimeout(tick, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-status-url]").forEach(follow);
});
