// Draws the KPI chart from the JSON endpoint named by the canvas (no inline script: strict CSP).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("kpi-chart");
  if (!canvas || typeof Chart === "undefined") { return; }
  fetch(canvas.dataset.source, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var names = Object.keys(data.figures).filter(function (n) { return n !== "all"; });
      var pct = function (key) {
        return names.map(function (n) { var v = data.figures[n][key]; return v === null ? 0 : v * 100; });
      };
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: names,
          datasets: [
            { label: "conversion %", data: pct("conversion") },
            { label: "unpaid rate %", data: pct("unpaid_rate") },
          ],
        },
        options: { animation: false, responsive: true },
      });
      canvas.dataset.drawn = "1";
    });
});
