// Servitize console: the live alert list (SSE -> htmx reload) and uPlot charts.
(function () {
  "use strict";

  function liveAlerts() {
    var rows = document.getElementById("alert-rows");
    if (!rows || !window.EventSource) return;
    var dot = document.getElementById("live");
    var source = new EventSource("/console/events?after=" + (rows.dataset.after || ""));
    var pending = null;
    source.onopen = function () { if (dot) dot.classList.add("on"); };
    source.onerror = function () { if (dot) dot.classList.remove("on"); };
    function changed() {
      if (pending) return;
      // coalesce a burst of events into one reload
      pending = setTimeout(function () { pending = null; htmx.trigger(document.body, "alerts-changed"); }, 150);
    }
    ["opened", "reactivated", "escalated", "cleared", "acknowledged", "resolved", "closed", "commented"]
      .forEach(function (name) { source.addEventListener(name, changed); });
    window.addEventListener("beforeunload", function () { source.close(); });
  }

  function spansPlugin(spans) {
    return {
      hooks: {
        drawClear: function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = "rgba(179, 38, 30, 0.15)";
          spans.forEach(function (s) {
            var x0 = u.valToPos(s.from, "x", true), x1 = u.valToPos(s.to, "x", true);
            ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 2), u.bbox.height);
          });
          ctx.restore();
        }
      }
    };
  }

  // Axis and legend times in the tenant's zone, not the browser's.
  function zoned(zone) {
    return function (ts) { return zone ? uPlot.tzDate(new Date(ts * 1e3), zone) : new Date(ts * 1e3); };
  }

  function draw(el, data, spans, range) {
    el.innerHTML = "";
    if (!data.t.length) { el.textContent = "—"; return; }
    var width = Math.min(el.parentElement.clientWidth || 900, 1100);
    var opts = {
      title: el.dataset.label, width: width, height: 220, plugins: [spansPlugin(spans)],
      tzDate: zoned(el.dataset.zone),
      cursor: { drag: { x: true, y: false } },  // drag to zoom, double-click to reset
      series: [{}, { label: "avg", stroke: "#2f6fdf", width: 1.5 },
               { label: "min", stroke: "#9aa5b5", width: 1 }, { label: "max", stroke: "#9aa5b5", width: 1 }]
    };
    var cols = [data.t, data.avg, data.min, data.max];
    if (range) {
      // empty points at both ends: the x axis spans the chosen range (zoom still works)
      cols = cols.map(function (c, i) { return [i ? null : range[0]].concat(c, [i ? null : range[1]]); });
    }
    new uPlot(opts, cols, el);
  }

  function alertChart() {
    var el = document.getElementById("alert-chart");
    if (!el) return;
    draw(el, JSON.parse(el.dataset.series), [{ from: +el.dataset.from, to: +el.dataset.to }]);
  }

  function deviceCharts(range) {
    document.querySelectorAll(".device-chart").forEach(function (el) {
      var url = "/console/devices/" + encodeURIComponent(el.dataset.device) + "/series?metric=" +
        encodeURIComponent(el.dataset.metric) + "&range=" + range;
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
        draw(el, d.series, d.alerts, d.range);
        el.dataset.loaded = range;
      });
    });
    document.querySelectorAll(".range").forEach(function (b) { b.classList.toggle("on", b.dataset.range === range); });
  }

  function mrrChart() {
    var el = document.getElementById("mrr-chart");
    if (!el) return;
    var months = JSON.parse(el.dataset.months);
    if (!months.length) { el.textContent = "—"; return; }
    var t = months.map(function (m) { return Date.UTC(+m.period.slice(0, 4), +m.period.slice(5, 7) - 1, 1) / 1000; });
    new uPlot({ width: Math.min(el.parentElement.clientWidth || 900, 1100), height: 200,
      series: [{}, { label: "MRR", stroke: "#1b7f3b", width: 2, value: function (u, v) { return v == null ? "" : (v / 100).toFixed(2); } }],
      axes: [{}, { values: function (u, vals) { return vals.map(function (v) { return (v / 100).toFixed(0); }); } }]
    }, [t, months.map(function (m) { return m.mrr; })], el);
  }

  document.addEventListener("DOMContentLoaded", function () {
    liveAlerts();
    alertChart();
    mrrChart();
    if (document.querySelector(".device-chart")) {
      deviceCharts("1d");
      document.querySelectorAll(".range").forEach(function (b) {
        b.addEventListener("click", function () { deviceCharts(b.dataset.range); });
      });
    }
  });
})();
