// Draws the KPI charts from the JSON endpoint named by each canvas (no inline script: strict
// CSP). Every number drawn is computed on the server by a tested function (bot.store.kpis,
// kpis_more, kpis_charts): this file only picks them from the JSON.
"use strict";
(function () {
  var pct = function (v) { return v === null || v === undefined ? 0 : v * 100; };
  var OPTIONS = { animation: false, responsive: true };

  var channels = function (data) {
    return Object.keys(data.figures).filter(function (n) { return n !== "all"; });
  };
  var perChannel = function (data, key) {
    return channels(data).map(function (n) { return pct(data.figures[n][key]); });
  };

  // One entry per canvas id: how to turn the report into a Chart.js configuration.
  var CHARTS = {
    "kpi-chart": function (data) {
      return { type: "bar", data: { labels: channels(data), datasets: [
        { label: "conversion %", data: perChannel(data, "conversion") },
        { label: "unpaid rate %", data: perChannel(data, "unpaid_rate") },
      ] } };
    },
    "delay-chart": function (data) {
      return { type: "bar", data: {
        labels: data.delays.map(function (b) { return b.days; }),
        datasets: [{ label: "paid invoices", data: data.delays.map(function (b) { return b.paid; }) }],
      } };
    },
    "rates-chart": function (data) {
      return { type: "bar", data: { labels: channels(data), datasets: [
        { label: "promise kept %", data: perChannel(data, "promise_kept_rate") },
        { label: "plan completed %", data: perChannel(data, "plan_completion_rate") },
      ] } };
    },
    "campaign-chart": function (data) {
      return { type: "bar", data: {
        labels: data.campaigns.map(function (c) { return c.name; }),
        datasets: [{ label: "conversion % (paid / delivered)",
          data: data.campaigns.map(function (c) { return pct(c.conversion); }) }],
      } };
    },
    "weekly-chart": function (data) {
      var weeks = data.weeks;
      return { type: "bar", data: {
        labels: weeks.map(function (w) { return w.week; }),
        datasets: [
          { label: "issued", data: weeks.map(function (w) { return w.issued; }), yAxisID: "y" },
          { label: "paid", data: weeks.map(function (w) { return w.paid; }), yAxisID: "y" },
          { type: "line", label: "conversion %", yAxisID: "rate",
            data: weeks.map(function (w) { return w.conversion === null ? null : w.conversion * 100; }) },
        ],
      }, options: { scales: { y: { beginAtZero: true, position: "left" },
        rate: { beginAtZero: true, max: 100, position: "right" } } } };
    },
  };

  var draw = function (canvas, data) {
    var make = CHARTS[canvas.id];
    if (!make) { return; }
    var config = make(data);
    config.options = Object.assign({}, OPTIONS, config.options || {});
    new Chart(canvas, config);
    canvas.dataset.drawn = "1";
  };

  document.addEventListener("DOMContentLoaded", function () {
    var canvases = document.querySelectorAll("canvas[data-source]");
    if (!canvases.length || typeof Chart === "undefined") { return; }
    // The canvases of one page read the same report: fetched once.
    fetch(canvases[0].dataset.source, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        canvases.forEach(function (canvas) { draw(canvas, data); });
      });
  });
})();
