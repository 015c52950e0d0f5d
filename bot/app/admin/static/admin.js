// firstline admin console: the one live part, the reindex progress (polls a JSON endpoint).
"use strict";
(function () {
  const box = document.getElementById("reindex-status");
  if (!box) { return; }
  const bar = box.querySelector("progress");
  const text = box.querySelector(".text");
  const labels = JSON.parse(box.dataset.labels);
  async function poll() {
    let state;
    try {
      const response = await fetch(box.dataset.poll, {credentials: "same-origin",
                                                        headers: {"Accept": "application/json"}});
      if (!response.ok) { return; }
      state = await response.json();
    } catch (err) { setTimeout(poll, 3000); return; }
    if (state.running) {
      bar.hidden = false;
      bar.max = Math.max(state.total, 1);
      bar.value = state.done;
      text.textContent = labels.running.replace("{done}", state.done).replace("{total}", state.total);
      setTimeout(poll, 1000);
    } else {
      bar.hidden = true;
      text.textContent = state.finished || labels.idle;
      if (box.dataset.wasRunning === "1" && state.finished) { box.dataset.wasRunning = "0"; }
    }
    if (state.running) { box.dataset.wasRunning = "1"; }
  }
  poll();
})();
