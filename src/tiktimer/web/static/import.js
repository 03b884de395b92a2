// The import page: sends the chosen CSV file to POST /api/v1/posts/import, shows the report.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("import-form");
  if (!form) return;
  const file = document.getElementById("import-file");
  const status = document.getElementById("import-status");
  const problemsCard = document.getElementById("import-problems-card");
  const problems = problemsCard.querySelector("tbody");
  const rowsCard = document.getElementById("import-rows-card");
  const rows = document.getElementById("import-rows");

  function cell(tr, text, header) {
    const td = document.createElement(header ? "th" : "td");
    if (header) td.scope = "row";
    td.textContent = text; // never markup: cells come from the file
    tr.appendChild(td);
  }

  function show(report) {
    problems.replaceChildren();
    (report.problems || []).forEach((p) => {
      const tr = document.createElement("tr");
      cell(tr, String(p.row), true);
      cell(tr, p.column || "(row)");
      cell(tr, p.message);
      problems.appendChild(tr);
    });
    problemsCard.hidden = !(report.problems || []).length;
    rows.replaceChildren();
    (report.rows || []).forEach((r) => {
      const li = document.createElement("li");
      li.textContent = `Row ${r.row}: ${r.status}`;
      if (r.post_id) {
        const link = document.createElement("a");
        link.href = `/app/posts/${r.post_id}`;
        link.textContent = `post ${r.post_id}`;
        li.append(" — ", link);
      }
      rows.appendChild(li);
    });
    rowsCard.hidden = !(report.rows || []).length;
  }

  function summary(report) {
    const head = report.dry_run ? "Checked" : report.created ? "Imported" : "Nothing imported";
    return `${head}: ${report.created} created, ${report.already_imported} already imported, ` +
      `${report.invalid} with problems.`;
  }

  async function send(dryRun) {
    if (!file.files.length) {
      status.textContent = "Choose a CSV file first.";
      return;
    }
    const mode = form.querySelector("input[name=mode]:checked").value;
    status.textContent = dryRun ? "Checking…" : "Importing…";
    try {
      const answer = await window.TikTimer.api(
        `/api/v1/posts/import?mode=${mode}&dry_run=${dryRun}`,
        { method: "POST", headers: { "Content-Type": "text/csv" }, body: await file.files[0].arrayBuffer() },
      );
      const body = await answer.json();
      if (body.rows) {
        show(body);
        status.textContent = summary(body);
      } else {
        show({ problems: body.problems || [], rows: [] });
        status.textContent = window.TikTimer.message(body.detail);
      }
    } catch (error) {
      status.textContent = error.message;
    }
  }

  // The form works without this script (it posts to /app/import); with it, the page
  // calls the JSON API and stays put.
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(!(event.submitter && event.submitter.value === "false"));
  });
});
