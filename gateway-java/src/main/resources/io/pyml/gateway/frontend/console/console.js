// The PyML console's only script: refreshes the deployments table from the console's JSON
// endpoint. Text goes in with textContent, never as HTML.
"use strict";
(function () {
  const table = document.querySelector("table[data-poll]");
  if (!table) {
    return;
  }
  const columns = ["version", "state", "replicasText", "restarts", "uptime", "rate", "p50",
    "p99", "calls", "errors", "batch"];
  async function refresh() {
    try {
      const answer = await fetch(table.dataset.poll, { credentials: "same-origin" });
      if (!answer.ok) {
        return;
      }
      const rows = await answer.json();
      const body = document.createElement("tbody");
      for (const row of rows) {
        row.replicasText = row.readyReplicas + "/" + row.replicas;
        const tr = document.createElement("tr");
        const name = document.createElement("td");
        const link = document.createElement("a");
        link.href = "/console/models/" + row.path;
        link.textContent = row.name;
        name.appendChild(link);
        tr.appendChild(name);
        for (const column of columns) {
          const td = document.createElement("td");
          td.textContent = String(row[column]);
          if (column === "state") {
            td.className = "state " + row.state;
          }
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
      table.replaceChild(body, table.tBodies[0]);
    } catch (e) {
      // The gateway restarting: the next refresh tries again.
    }
  }
  setInterval(refresh, 2000);
})();
