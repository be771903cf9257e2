// Draws every chart on the page from the JSON the server wrote beside it
// (<script type="application/json" class="chart-spec">). No build step:
// chart.umd.min.js defines the global Chart.
(function () {
  "use strict";
  function draw(spec) {
    var canvas = document.getElementById(spec.id);
    if (!canvas || typeof Chart === "undefined") return;
    var datasets = spec.datasets.map(function (d) {
      return {
        label: d.label, data: d.data, borderColor: d.color,
        backgroundColor: spec.type === "bar" ? d.color : d.color + "22",
        borderWidth: d.dashed ? 1.5 : 2, borderDash: d.dashed ? [6, 4] : [],
        pointRadius: d.dashed ? 0 : (d.data.length > 40 ? 0 : 2.5),
        pointHoverRadius: 4, fill: !!d.fill, stepped: !!d.step, cubicInterpolationMode: "monotone",
      };
    });
    var y = { title: { display: !!spec.y_label, text: spec.y_label }, stacked: !!spec.stacked,
      grid: { color: "#e2e8f0" }, beginAtZero: true };
    if (spec.y_min != null) y.min = spec.y_min;
    if (spec.y_max != null) y.max = spec.y_max;
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          title: { display: !!spec.title, text: spec.title, align: "start", font: { size: 14, weight: "600" }, color: "#0f172a" },
          legend: { display: spec.datasets.length > 1, position: "bottom", labels: { boxWidth: 12, usePointStyle: true } },
        },
        scales: {
          x: { stacked: !!spec.stacked, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: !!spec.x_label, maxTicksLimit: spec.x_label ? 8 : undefined,
              // Epoch numbers are long: the axis shows their last digits, the tooltip the whole number.
              callback: function (v) { var l = String(this.getLabelForValue(v)); return /^\d{6,}$/.test(l) ? "…" + l.slice(-4) : l; } },
            title: { display: !!spec.x_label, text: spec.x_label } },
          y: y,
        },
      },
    });
  }
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#475569";
  document.querySelectorAll("script.chart-spec").forEach(function (el) {
    try { draw(JSON.parse(el.textContent)); } catch (e) { console.error("chart", e); }
  });
})();
