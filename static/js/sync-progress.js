// Live progress of the Xero sync on the add-on page: polls the status URL while a sync runs.
(function () {
  const panel = document.getElementById("sync-panel");
  if (!panel) return;
  const url = panel.dataset.statusUrl;
  let polls = 0;

  function render(status) {
    const run = status.run;
    if (!run) return;
    document.getElementById("sync-progress").hidden = false;
    document.getElementById("sync-run-label").textContent = run.kind_label;
    document.getElementById("sync-run-state").textContent = run.state_label;
    const list = document.getElementById("sync-steps");
    list.replaceChildren(...run.steps.map(function (step) {
      const li = document.createElement("li");
      li.className = "sync-step-row" + (step.current ? " current" : "") + (step.percent === 100 ? " done" : "");
      li.dataset.step = step.name;
      const label = document.createElement("span");
      label.className = "sync-step-label";
      label.textContent = step.label;
      const bar = document.createElement("span");
      bar.className = "bar";
      const fill = document.createElement("span");
      fill.style.width = step.percent + "%";
      bar.appendChild(fill);
      const count = document.createElement("span");
      count.className = "sync-step-count muted small";
      count.textContent = step.done + (step.total !== null ? " / " + step.total : "");
      li.append(label, bar, count);
      return li;
    }));
    document.getElementById("sync-done").hidden = status.active || run.state !== "succeeded";
    const failed = document.getElementById("sync-failed");
    failed.hidden = !(run.state === "failed" || run.state === "partial");
    if (!failed.hidden && run.error) failed.textContent = run.error;
    const button = document.getElementById("sync-button");
    if (button) button.disabled = status.active;
    if (!status.active && run.state === "succeeded") {
      if (button) button.textContent = "Sync Now";
      const last = document.querySelector("[data-testid=last-sync]");
      if (last) last.textContent = "Last successful sync just now";
    }
  }

  function poll() {
    polls += 1;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (status) {
        render(status);
        if (status.active && polls < 3600) {
          setTimeout(poll, 1000);
        } else if (panel.dataset.active === "1") {
          // Finished while we watched: reload once so counts, runs and errors below are current.
          panel.dataset.active = "0";
          setTimeout(function () { window.location.reload(); }, 1500);
        }
      })
      .catch(function () { if (polls < 3600) setTimeout(poll, 3000); });
  }

  if (panel.dataset.active === "1") poll();
})();
