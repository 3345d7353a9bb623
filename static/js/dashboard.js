/* Charts of the triage dashboard and the big screen (Apache ECharts, vendored).
 *
 * Each chart is a <div data-chart="ID"> whose data is in <script id="ID"
 * type="application/json"> (Django's json_script): {type: bar|line|pie, labels, series:
 * [{name, data}], links}. A bar with a link drills down to that area. Charts are drawn on
 * load and again whenever htmx swaps in new figures (the big screen polls every minute). */
(function () {
  "use strict";

  function locale() {
    return (document.documentElement.lang || "zh").toLowerCase().startsWith("zh") ? "ZH" : "EN";
  }

  function spec(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function options(data, dark) {
    var text = dark ? "#c9d6ea" : "#495057";
    var base = {
      backgroundColor: "transparent",
      textStyle: { color: text },
      tooltip: { trigger: data.type === "pie" ? "item" : "axis", confine: true },
      legend: { top: 0, textStyle: { color: text } },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      color: ["#3b82f6", "#22c55e", "#f59e0b", "#ef4444", "#8b5cf6", "#14b8a6", "#64748b"],
    };
    if (data.type === "pie") {
      base.legend = { type: "scroll", bottom: 0, textStyle: { color: text } };
      base.series = [{
        type: "pie", radius: ["35%", "65%"], name: data.series[0].name,
        label: { color: text, formatter: "{b} {c}" },
        data: data.labels.map(function (label, i) { return { name: label, value: data.series[0].data[i] }; }),
      }];
      return base;
    }
    if (data.type === "line") {
      base.xAxis = { type: "category", data: data.labels, boundaryGap: false };
      base.yAxis = { type: "value", minInterval: 1 };
      base.series = data.series.map(function (s) { return { type: "line", name: s.name, data: s.data, smooth: true, showSymbol: data.labels.length < 40 }; });
      return base;
    }
    // Bars lie down so long Chinese area and type names stay readable on a phone.
    base.yAxis = { type: "category", data: data.labels, inverse: true, axisLabel: { width: 110, overflow: "truncate" } };
    base.xAxis = { type: "value", minInterval: 1 };
    base.series = data.series.map(function (s) { return { type: "bar", name: s.name, data: s.data, cursor: data.links ? "pointer" : "default" }; });
    return base;
  }

  // Draws every chart under root that has no chart yet (htmx swaps bring fresh elements).
  function draw(root) {
    if (!window.echarts) return;
    var dark = document.body.dataset.chartTheme === "dark";
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (window.echarts.getInstanceByDom(el)) return;
      var data = spec(el.dataset.chart);
      if (!data) return;
      if (data.type === "bar") {
        el.style.height = Math.max(200, 40 + 26 * data.labels.length) + "px";
      }
      var chart = window.echarts.init(el, dark ? "dark" : null, { locale: locale() });
      chart.setOption(options(data, dark));
      if (data.links) {
        chart.on("click", function (params) {
          var url = data.links[params.dataIndex];
          if (url) window.location.href = url;
        });
      }
    });
  }

  function resizeAll() {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    window.addEventListener("resize", resizeAll);
    // A wall screen polls all day: free the charts of the figures being replaced.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      event.detail.target.querySelectorAll("[data-chart]").forEach(function (el) {
        var chart = window.echarts && window.echarts.getInstanceByDom(el);
        if (chart) chart.dispose();
      });
    });
    // A queue action that fails answers 400 (bad input), 403 (not allowed) or 409 (someone
    // else acted first) with the row and its error message: show it in place.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var status = event.detail.xhr.status;
      var target = event.detail.target;
      if ([400, 403, 409].indexOf(status) >= 0 && target && /^queue-\d+$/.test(target.id)) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:afterSettle", function () { draw(document); });
    var full = document.querySelector("[data-fullscreen]");
    if (full) {
      full.addEventListener("click", function () {
        if (document.fullscreenElement) document.exitFullscreen();
        else document.documentElement.requestFullscreen();
      });
    }
  });
})();
