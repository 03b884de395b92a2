// The composer: resumable upload (tus) with progress, preview, and TikTok's posting rules
// (shared/tiktok-api.md §8.3) applied live: the button stays disabled until they are met.
"use strict";
const CHUNK_BYTES = 256 * 1024;
const UPLOADS = "/api/v1/media/uploads";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("composer");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const state = { uploading: false, tooLong: false };

  $("account").addEventListener("change", () => {
    const query = new URLSearchParams({ account: $("account").value });
    if ($("media").value) query.set("media", $("media").value);
    window.location.search = query.toString(); // fresh creator_info for that account
  });

  // -- preview ------------------------------------------------------------------------
  // The player, with the server's poster frame of an uploaded video (media.thumbnails).
  function preview(src, mediaId = null) {
    const video = $("preview");
    video.hidden = !src;
    if (mediaId) video.poster = `/app/media/${mediaId}/thumbnail`;
    else video.removeAttribute("poster");
    if (src) video.src = src;
    else video.removeAttribute("src");
  }
  $("preview").addEventListener("loadedmetadata", () => {
    const max = Number(form.dataset.maxDuration || 0);
    const seconds = $("preview").duration;
    state.tooLong = Boolean(max && seconds > max);
    const error = $("duration-error");
    error.hidden = !state.tooLong;
    error.textContent = state.tooLong
      ? `This video lasts ${seconds.toFixed(1)} s; this account can post up to ${max} s.` : "";
    check();
  });
  $("media").addEventListener("change", () => {
    const chosen = $("media").value;
    preview(chosen ? `/app/media/${chosen}/content` : null, chosen || null);
    check();
  });

  // -- upload (tus 1.0): resumes from the server's offset after a dropped connection --------
  function status(text) { $("upload-status").textContent = text; }
  // In bytes, as the browser reports them sent (XHR upload progress, within each chunk).
  const megabytes = (bytes) => (bytes / 1048576).toFixed(bytes < 10485760 ? 2 : 1);
  function progress(done, total) {
    const bar = $("upload-progress");
    bar.max = Math.max(total, 1);
    bar.value = done;
    const percent = total ? Math.floor((done / total) * 100) : 0;
    $("upload-percent").textContent = `${percent}% · ${megabytes(done)} of ${megabytes(total)} MB`;
  }
  async function request(method, url, headers = {}, body = null) {
    return TikTimer.api(url, { method, body, headers: Object.assign({ "Tus-Resumable": "1.0.0" }, headers) });
  }
  async function serverOffset(id) {
    const answer = await request("HEAD", `${UPLOADS}/${id}`);
    if (!answer.ok) return null;
    return Number(answer.headers.get("Upload-Offset"));
  }
  function patch(id, offset, blob, total) {
    return TikTimer.bearer().then((token) => new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PATCH", `${UPLOADS}/${id}`);
      xhr.setRequestHeader("Authorization", "Bearer " + token);
      xhr.setRequestHeader("Tus-Resumable", "1.0.0");
      xhr.setRequestHeader("Upload-Offset", String(offset));
      xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
      xhr.upload.onprogress = (event) => progress(offset + event.loaded, total);
      xhr.onload = () => (xhr.status === 204
        ? resolve(Number(xhr.getResponseHeader("Upload-Offset")))
        : reject(new Error(`status ${xhr.status}`)));
      xhr.onerror = () => reject(new Error("connection lost"));
      xhr.send(blob);
    }));
  }
  async function start(file, key) {
    let id = window.localStorage.getItem(key);
    let offset = id ? await serverOffset(id) : null;
    if (offset === null) {
      const name = btoa(unescape(encodeURIComponent(file.name)));
      const answer = await request("POST", UPLOADS, {
        "Upload-Length": String(file.size), "Upload-Metadata": "filename " + name,
      });
      if (!answer.ok) throw new Error(TikTimer.message((await answer.json()).detail));
      id = (await answer.json()).upload_id;
      offset = 0;
      window.localStorage.setItem(key, id);
    } else if (offset > 0) {
      status("Resuming an earlier upload of this file…");
    }
    return { id, offset };
  }
  async function send(file, id, offset) {
    let failures = 0;
    while (offset < file.size) {
      try {
        offset = await patch(id, offset, file.slice(offset, offset + CHUNK_BYTES), file.size);
        failures = 0;
      } catch (error) {
        failures += 1;
        if (failures > 8) throw error;
        status(`Connection lost; resuming (try ${failures})…`);
        await new Promise((r) => window.setTimeout(r, Math.min(500 * 2 ** failures, 8000)));
        const known = await serverOffset(id).catch(() => null);
        if (known !== null) offset = known;
      }
    }
    progress(file.size, file.size);
  }
  async function upload(file) {
    const key = `tiktimer.upload:${file.name}:${file.size}:${file.lastModified}`;
    state.uploading = true;
    check();
    form.querySelector(".progress-wrap").hidden = false;
    progress(0, file.size);
    status("Uploading…");
    try {
      const { id, offset } = await start(file, key);
      await send(file, id, offset);
      status("Checking the video…");
      const answer = await request("POST", `${UPLOADS}/${id}/complete`);
      const body = await answer.json();
      if (!answer.ok) throw new Error(TikTimer.message(body.detail));
      window.localStorage.removeItem(key);
      const option = new Option(`${file.name} (just uploaded)`, body.id, true, true);
      $("media").add(option);
      status(body.verdict.ok ? "Uploaded." : "Uploaded, but TikTok would refuse it: " + body.verdict.reasons.join(" "));
      $("media").dispatchEvent(new Event("change", { bubbles: true }));
    } catch (error) {
      status("Upload failed: " + error.message + " Choose the file again to resume.");
    } finally {
      state.uploading = false;
      check();
    }
  }
  $("video-file").addEventListener("change", () => {
    const file = $("video-file").files[0];
    if (!file) return;
    preview(URL.createObjectURL(file));
    upload(file);
  });

  // -- pre-flight: the API's own checks (POST /api/v1/tiktok/posts/validate), nothing saved --
  const FIELD_SLOTS = ["media_ids", "privacy_level", "content", "social_account_id", "scheduled_time",
    "allow_comment", "allow_duet", "allow_stitch", "post_mode"];
  let preflightErrors = [];
  let preflightTimer = null;
  let preflightRun = 0;
  function body(mode) {
    const checked = (id) => $(id) !== null && $(id).checked;
    const disclose = checked("disclose");
    const when = mode === "schedule" ? `${$("date").value}T${$("time").value}:00`
      : new Date(Date.now() + 60000).toISOString();
    return {
      content: $("content").value, scheduled_time: when,
      social_account_id: Number($("account").value), media_ids: [$("media").value],
      media_type: "video", post_mode: mode === "inbox" ? "inbox" : "direct",
      privacy_level: $("privacy").value || null,
      allow_comment: checked("allow_comment"), allow_duet: checked("allow_duet"),
      allow_stitch: checked("allow_stitch"),
      brand_organic_toggle: disclose && checked("brand_organic"),
      brand_content_toggle: disclose && checked("brand_content"),
    };
  }
  function showPreflight(errors) {
    preflightErrors = errors;
    FIELD_SLOTS.forEach((name) => {
      const slot = $("pf-" + name);
      if (!slot) return;
      const mine = errors.filter((e) => e.field === name).map((e) => e.message);
      slot.hidden = mine.length === 0;
      slot.textContent = mine.join(" ");
    });
    check(false);
  }
  async function preflight() {
    const mode = modeOf();
    const ready = $("media").value && (mode === "inbox" || $("privacy").value)
      && (mode !== "schedule" || ($("date").value && $("time").value));
    if (mode === "draft" || !ready || state.uploading) return showPreflight([]);
    const run = ++preflightRun;
    try {
      const answer = await TikTimer.api("/api/v1/tiktok/posts/validate", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body(mode)),
      });
      if (run !== preflightRun || !answer.ok) return; // a newer check is on its way, or none ran
      showPreflight((await answer.json()).errors);
    } catch (error) {
      // The server checks again on submit; a failed check here blocks nothing.
    }
  }
  function schedulePreflight() {
    window.clearTimeout(preflightTimer);
    preflightTimer = window.setTimeout(preflight, 350);
  }

  // -- TikTok's rules -----------------------------------------------------------------
  const modeOf = () => form.querySelector("input[name=mode]:checked").value;
  const LABELS = { schedule: "Schedule post", now: "Publish now", inbox: "Send to TikTok inbox", draft: "Save draft" };
  function blockers() {
    const mode = modeOf();
    const found = [];
    const max = Number(form.dataset.captionMax);
    const used = $("content").value.length; // JavaScript strings count UTF-16 units, as TikTok does
    $("caption-used").textContent = used;
    $("caption-count").classList.toggle("over", used > max);
    if (used > max) found.push(`The caption is ${used - max} characters too long.`);
    const disclose = $("disclose").checked;
    const branded = disclose && $("brand_content").checked;
    const chosen = !disclose || $("brand_organic").checked || $("brand_content").checked;
    $("disclose-error").hidden = chosen;
    if (!chosen) found.push(form.dataset.prompt);
    if (mode === "draft") return found;
    if (form.dataset.canPost !== "yes") found.push("This account cannot post right now.");
    if (state.uploading) found.push("Wait for the upload to finish.");
    if (!$("media").value) found.push("Choose or upload a video.");
    if (state.tooLong) found.push($("duration-error").textContent);
    if (mode !== "inbox" && !$("privacy").value) found.push("Choose who can view this video.");
    if (branded && $("privacy").value === "SELF_ONLY") found.push($("privacy-note").textContent);
    preflightErrors.forEach((e) => found.push(e.message));
    if (mode === "schedule") {
      if (!$("date").value || !$("time").value) found.push("Choose a date and a time.");
      else if (new Date(`${$("date").value}T${$("time").value}`) <= new Date()) found.push("The time must be in the future.");
    }
    return found;
  }
  function check(again = true) {
    const mode = modeOf();
    const disclose = $("disclose").checked;
    const branded = disclose && $("brand_content").checked;
    $("disclosure").hidden = !disclose;
    const privateOption = $("privacy").querySelector("option[value=SELF_ONLY]");
    if (privateOption) privateOption.disabled = branded;
    $("privacy-note").hidden = !branded;
    $("declaration").textContent = branded ? form.dataset.declarationBranded : form.dataset.declaration;
    $("schedule-fields").hidden = mode !== "schedule";
    if ($("repeat-fields")) $("repeat-fields").hidden = mode !== "schedule";
    $("inbox-note").hidden = mode !== "inbox";
    if (!form.querySelector("input[name=post_id]")) $("submit").textContent = LABELS[mode];
    const found = blockers();
    $("submit").disabled = found.length > 0;
    $("blockers").replaceChildren(...found.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
    if (again) schedulePreflight();
  }
  form.addEventListener("input", check);
  form.addEventListener("change", check);
  check();
});
