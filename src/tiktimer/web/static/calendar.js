// Drag a scheduled post to another day (month view: same time of day) or another hour of a
// day (week view: same minutes): PATCH /posts/{id} with the new wall-clock time, which the
// API reads in the user's zone and validates as for any client (DST gaps and repeats
// included). A refusal is shown in place and the post stays where it was.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const message = document.getElementById("calendar-message");
  let dragged = null;

  function say(text, ok) {
    message.hidden = false;
    message.textContent = text;
    message.className = "alert " + (ok ? "alert-ok" : "alert-error");
  }

  // The wall-clock time a post dropped on `target` would get: "HH:MM".
  function newTime(post, target) {
    const minutes = post.dataset.time.slice(3);
    return target.dataset.hour ? target.dataset.hour + ":" + minutes : post.dataset.time;
  }

  async function move(post, target) {
    const time = newTime(post, target);
    const answer = await TikTimer.api("/posts/" + post.dataset.post, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ scheduled_time: target.dataset.day + "T" + time + ":00" }),
    });
    if (answer.ok) {
      post.dataset.time = time;
      post.querySelector("time").textContent = time;
      target.appendChild(post);
      say("Moved to " + target.dataset.label + " at " + time + ".", true);
    } else {
      const body = await answer.json().catch(() => ({}));
      say("Not moved: " + TikTimer.message(body.detail), false);
    }
  }

  document.querySelectorAll(".cal-post[draggable='true']").forEach((post) => {
    post.addEventListener("dragstart", (event) => {
      dragged = post;
      event.dataTransfer.setData("text/plain", post.dataset.post);
      event.dataTransfer.effectAllowed = "move";
    });
    post.addEventListener("dragend", () => { dragged = null; });
  });
  document.querySelectorAll(".cal-day, .cal-slot").forEach((target) => {
    target.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      target.classList.add("drop");
    });
    target.addEventListener("dragleave", () => target.classList.remove("drop"));
    target.addEventListener("drop", async (event) => {
      event.preventDefault();
      target.classList.remove("drop");
      const post = dragged;
      dragged = null;
      if (!post || post.parentElement === target) return; // the same day or hour: no change
      await move(post, target);
    });
  });
});
