// The post page's live timeline: re-reads the server-rendered part while the post moves.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("timeline");
  if (!box) return;
  let delay = 1000;
  let shown = null;
  async function poll() {
    try {
      const answer = await fetch(box.dataset.url, { credentials: "same-origin" });
      if (answer.ok) {
        const status = answer.headers.get("X-Post-Status");
        const html = await answer.text();
        if (html !== shown) {
          shown = html;
          box.innerHTML = html;
          delay = 1000;
        } else {
          delay = Math.min(delay * 1.5, 10000);
        }
        if (!["scheduled", "publishing", "unconfirmed"].includes(status)) {
          if (box.dataset.live === "yes") window.location.reload(); // actions change too
          return;
        }
      }
    } catch (error) {
      delay = Math.min(delay * 2, 15000);
    }
    window.setTimeout(poll, delay);
  }
  if (box.dataset.live === "yes") window.setTimeout(poll, delay);
});
