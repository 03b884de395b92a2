// TikTimer's shared enhancements; every page works without them.
"use strict";
document.documentElement.classList.add("js");

window.TikTimer = (function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  let token = null;
  let tokenUntil = 0;

  // A bearer token for the JSON API, handed out by the session (POST /app/token).
  async function bearer() {
    if (token && Date.now() < tokenUntil) return token;
    const answer = await fetch("/app/token", {
      method: "POST", headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin",
    });
    if (!answer.ok) throw new Error("Your session ended; sign in again.");
    const body = await answer.json();
    token = body.access_token;
    tokenUntil = Date.now() + Math.max(30, body.expires_in - 60) * 1000;
    return token;
  }

  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: "Bearer " + (await bearer()) }, options.headers || {});
    return fetch(path, Object.assign({}, options, { headers }));
  }

  // FastAPI's error detail as one readable sentence.
  function message(detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map((d) => d.msg).join(" ");
    return "Something went wrong.";
  }

  return { api, bearer, csrf, message };
})();

document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
  // Time zone pickers default to the browser's zone when the user has none yet.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll("select[data-browser-zone='yes']").forEach((select) => {
    if (zone && [...select.options].some((o) => o.value === zone)) select.value = zone;
  });
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
