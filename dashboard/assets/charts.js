// Starts the dashboard's echarts charts. Each chart container carries its
// echarts option as JSON in a data-echarts-option attribute (escaped by the
// server's templates), so the pages need no inline script and the
// Content-Security-Policy can restrict scripts to this origin.
"use strict";
(function () {
  if (typeof echarts === "undefined") {
    return; // echarts failed to load: the data tables below each chart remain.
  }
  var started = [];
  document.querySelectorAll("[data-echarts-option]").forEach(function (holder) {
    var target = document.getElementById(holder.getAttribute("data-echarts-for"));
    if (!target) {
      return;
    }
    var option;
    try {
      option = JSON.parse(holder.getAttribute("data-echarts-option"));
    } catch (e) {
      return;
    }
    var chart = echarts.init(target, null, { renderer: "canvas" });
    chart.setOption(option);
    started.push(chart);
  });
  window.addEventListener("resize", function () {
    started.forEach(function (chart) { chart.resize(); });
  });
})();
