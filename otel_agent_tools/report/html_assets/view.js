// otel-agent report: the page, drawn from the JSON document embedded above (no network, no library).
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var PAGE_SIZE = 50;
  var PALETTE = ["#4c78a8", "#72b7b2", "#54a24b", "#b279a2", "#9d755d", "#f2cf5b", "#79706e", "#439894", "#83bcb6"];
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var currency = data.currency;
  var runs = data.runs.map(function (row, i) {
    var run = {};
    data.run_keys.forEach(function (key, k) { run[key] = row[k]; });
    run.position = i;
    return run;
  });
  var byId = {};
  runs.forEach(function (r) { byId[r.run_id] = r; });
  var modelColor = {};
  data.models.forEach(function (m) {
    if (!(m.model in modelColor)) modelColor[m.model] = PALETTE[Object.keys(modelColor).length % PALETTE.length];
  });
  // The view's state lives in the address's #fragment (run, sort, q, page): a sorted, filtered view can be shared.
  function hashParams() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i > 0) params[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1));
    });
    return params;
  }
  var initial = hashParams();
  var state = { sortKey: "position", sortDir: 1, page: 0, filter: initial.q || "" };
  if (initial.sort) {
    state.sortDir = initial.sort.charAt(0) === "-" ? -1 : 1;
    state.sortKey = initial.sort.replace(/^[-+]/, "");
  }
  if (initial.page) state.page = Math.max(0, parseInt(initial.page, 10) - 1 || 0);

  // --- small helpers ------------------------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVGNS, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = String(value);
      else if (key === "onclick") node.addEventListener("click", value);
      else node.setAttribute(key, String(value));
    });
  }
  function append(node, children) {
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
  }
  function tokens(v) {
    if (v === null || v === undefined) return "-";
    if (v < 10000) return String(v);
    if (v < 1000000) return (v / 1000).toFixed(1) + "k";
    return (v / 1000000).toFixed(2) + "M";
  }
  function money(v) {
    if (v === null || v === undefined) return "-";
    return Math.abs(v) < 10 ? v.toFixed(4) : v.toFixed(2);
  }
  function secs(v) {
    if (v === null || v === undefined) return "-";
    return v < 10 ? v.toFixed(2) + "s" : v < 1000 ? v.toFixed(1) + "s" : v.toFixed(0) + "s";
  }
  function pct(v) { return v === null || v === undefined ? "-" : (v * 100).toFixed(0) + "%"; }
  function num(v, d) { return v === null || v === undefined ? "-" : v.toFixed(d); }
  function runCost(r) {
    if (r.unpriced_turns && r.unpriced_turns >= r.turns) return "-";
    return money(r.cost) + (r.unpriced_turns ? "*" : "");
  }
  function reasons(map) {
    return Object.keys(map).sort().map(function (k) { return k + " " + map[k]; }).join(", ");
  }
  function turnsOf(run) {
    return data.timelines[run.position].map(function (row) {
      var t = {};
      data.turn_keys.forEach(function (key, k) { t[key] = row[k]; });
      return t;
    });
  }
  function runHref(id) {
    var parts = ["run=" + encodeURIComponent(id)];
    if (state.sortKey !== "position") parts.push("sort=" + (state.sortDir < 0 ? "-" : "") + state.sortKey);
    if (state.filter) parts.push("q=" + encodeURIComponent(state.filter));
    if (state.page) parts.push("page=" + (state.page + 1));
    return "#" + parts.join("&");
  }
  function selectedRun() {
    var id = hashParams().run;
    if (id !== undefined && byId[id]) return { run: byId[id], how: "selected run" };
    var best = null;
    runs.forEach(function (r) {  // the text report's rule: most wasted turns, then wasted cost, then cost, then latest
      if (best === null || r.wasted_turns > best.wasted_turns ||
          (r.wasted_turns === best.wasted_turns && (r.wasted_cost > best.wasted_cost ||
          (r.wasted_cost === best.wasted_cost && r.cost >= best.cost)))) best = r;
    });
    return best ? { run: best, how: "most wasteful run" } : null;
  }
  function traceLink(run, short) {
    var shown = short ? run.trace_id.slice(0, 8) + "…" : run.trace_id;
    if (!data.jaeger_url) return el("code", { title: run.trace_id, text: shown });
    return el("a", { href: data.jaeger_url + "/trace/" + run.trace_id, target: "_blank", rel: "noopener",
      "class": "trace-link", title: "open trace " + run.trace_id + " in Jaeger", text: shown });
  }
  function legend(items) {
    var p = el("p", { "class": "legend" });
    items.forEach(function (item, i) {
      if (i) p.appendChild(document.createTextNode(" · "));
      p.appendChild(el("b", { text: item[0] }));
      p.appendChild(document.createTextNode(": " + item[1]));
    });
    return p;
  }

  // --- header and summary cards -------------------------------------------------------------------------------------
  function header() {
    return el("header", { "class": "top" }, [
      el("h1", { text: data.title }),
      el("span", { "class": "meta", text: "from " + data.source + " · generated " + data.generated }),
      data.jaeger_url ? el("a", { href: data.jaeger_url, target: "_blank", rel: "noopener", text: "Jaeger" }) : null,
    ]);
  }
  function cards() {
    var sum = function (key) { return runs.reduce(function (a, r) { return a + (r[key] || 0); }, 0); };
    var ok = runs.filter(function (r) { return r.outcome === "success"; }).length;
    var missed = runs.filter(function (r) { return r.missed_escalation; }).length;
    var items = [
      ["runs", String(runs.length)],
      ["successful", ok + " (" + pct(runs.length ? ok / runs.length : null) + ")"],
      ["turns", String(sum("turns"))],
      ["wasted turns", String(sum("wasted_turns"))],
      ["escalations", String(sum("escalations"))],
      ["missed escalations", String(missed)],
      ["cost (" + currency + ")", money(sum("cost"))],
      ["wasted cost", money(sum("wasted_cost"))],
    ];
    return el("div", { "class": "cards", id: "summary" }, items.map(function (it) {
      return el("div", { "class": "card", "data-card": it[0] }, [el("div", { "class": "v", text: it[1] }),
        el("div", { "class": "k", text: it[0] })]);
    }));
  }

  // --- runs table (sorted, filtered, paged) -------------------------------------------------------------------------
  var RUN_COLUMNS = [
    ["run", "run_id", "t"], ["agent", "agent", "t"], ["started (UTC)", "start_time", "t"], ["turns", "turns"],
    ["wasted", "wasted_turns"], ["wasted by reason", null, "t"], ["escalations", "escalations"],
    ["input", "input_tokens"], ["cached", "cache_read_tokens"], ["output", "output_tokens"],
    ["thinking", "reasoning_tokens"], ["cost " + currency, "cost"], ["VRAM GiB·s", "vram_time_gib_s"],
    ["wall", "wall_time_s"], ["outcome", "outcome", "t"], ["trace", null, "t"],
  ];
  var gpu = runs.some(function (r) { return r.vram_time_gib_s > 0; });  // no local GPU: no VRAM column
  if (!gpu) RUN_COLUMNS = RUN_COLUMNS.filter(function (c) { return c[1] !== "vram_time_gib_s"; });
  function visibleRuns() {
    var f = state.filter.toLowerCase();
    var list = runs.filter(function (r) {
      return !f || (r.run_id + " " + r.agent + " " + r.outcome + " " + r.models.join(" ") + " " +
        Object.keys(r.wasted_by_reason).join(" ")).toLowerCase().indexOf(f) >= 0;
    });
    var key = state.sortKey, dir = state.sortDir;
    list.sort(function (a, b) {
      var x = a[key], y = b[key];
      if (x === y) return a.position - b.position;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    return list;
  }
  function runsSection() {
    var section = el("section", { id: "runs" }, [el("h2", { text: "Runs (" + runs.length + ")" })]);
    var input = el("input", { type: "search", placeholder: "filter: run id, agent, model, outcome, reason",
      value: state.filter, "aria-label": "filter runs" });
    var pager = el("span", { "class": "muted", id: "pager" });
    var prev = el("button", { text: "◀ previous" });
    var next = el("button", { text: "next ▶" });
    section.appendChild(el("div", { "class": "controls" }, [input, prev, next, pager]));
    var wrap = el("div", { "class": "wrap" });
    section.appendChild(wrap);
    function draw() {
      var list = visibleRuns();
      var pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
      state.page = Math.min(state.page, pages - 1);
      var start = state.page * PAGE_SIZE;
      var shown = list.slice(start, start + PAGE_SIZE);
      pager.textContent = list.length ? "runs " + (start + 1) + "–" + (start + shown.length) + " of " + list.length +
        (list.length !== runs.length ? " (filtered from " + runs.length + ")" : "") : "no run matches";
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
      var head = el("tr", {}, RUN_COLUMNS.map(function (c) {
        var arrow = state.sortKey === c[1] ? (state.sortDir > 0 ? " ▲" : " ▼") : "";
        return el("th", { "class": (c[2] || "") + (c[1] ? " sortable" : ""), "data-sort": c[1],
          title: c[1] ? "sort by " + c[0] : null,
          onclick: c[1] ? function () { sortBy(c[1]); } : null }, [c[0], el("span", { "class": "arrow", text: arrow })]);
      }));
      var current = selectedRun();
      var body = el("tbody", {}, shown.map(function (r) {
        return el("tr", { "class": "run-row" + (current && current.run === r ? " selected" : ""),
          "data-run-id": r.run_id, "data-turns": r.turns, "data-wasted": r.wasted_turns,
          "data-escalations": r.escalations, "data-cost": r.cost, "data-outcome": r.outcome }, [
          el("td", { "class": "t" }, [el("a", { href: runHref(r.run_id), text: r.run_id })]),
          el("td", { "class": "t", text: r.agent }),
          el("td", { "class": "t", title: r.start_time, text: r.start_time.slice(5, 19).replace("T", " ") }),
          el("td", { text: r.turns }),
          el("td", { "class": r.wasted_turns ? "waste" : "", text: r.wasted_turns }),
          el("td", { "class": "t waste reasons", text: reasons(r.wasted_by_reason) || "-" }),
          el("td", { text: r.deescalations ? r.escalations + " (+" + r.deescalations + " down)" : r.escalations }),
          el("td", { text: tokens(r.input_tokens) }),
          el("td", { text: tokens(r.cache_read_tokens) }),
          el("td", { text: tokens(r.output_tokens) }),
          el("td", { text: tokens(r.reasoning_tokens) }),
          el("td", { text: runCost(r) }),
          gpu ? el("td", { text: num(r.vram_time_gib_s, 1) }) : null,
          el("td", { text: secs(r.wall_time_s) }),
          el("td", { "class": "t outcome" }, [el("span", { "class": "pill " + r.outcome, text: r.outcome }),
            r.missed_escalation ? el("span", { "class": "pill missed", text: "missed escalation" }) : null]),
          el("td", { "class": "t" }, [traceLink(r, true)]),
        ]);
      }));
      wrap.textContent = "";
      wrap.appendChild(el("table", { id: "runs-table" }, [el("thead", {}, [head]), body]));
    }
    function sortBy(key) {
      if (state.sortKey === key) state.sortDir = -state.sortDir;
      else { state.sortKey = key; state.sortDir = key === "run_id" || key === "agent" ? 1 : -1; }
      draw();
    }
    input.addEventListener("input", function () { state.filter = input.value; state.page = 0; draw(); });
    prev.addEventListener("click", function () { state.page -= 1; draw(); });
    next.addEventListener("click", function () { state.page += 1; draw(); });
    draw();
    section.appendChild(legend([
      ["wasted", "turns that did not move the run on; a turn with two reasons counts under both"],
      ["input", "all input tokens, cached included"], ["cached", "input tokens read from the provider's cache"],
      ["output", "all output tokens, thinking included"], ["thinking", "reasoning tokens"],
      ["VRAM GiB·s", gpu ? "local GPU memory held × seconds" : "(not shown: no run used a local GPU)"],
      ["wall", "the run's duration"],
      ["*", "some turns had no price: a lower bound"],
    ]));
    section.redraw = draw;
    return section;
  }

  // --- one run: the waterfall and its turn table --------------------------------------------------------------------
  function textWidth(s) { return s.length * 6.6; }
  function waterfall(run, turns) {
    var width = 1200, left = 190, right = 30, top = 34, rowH = 26, toolH = 16, gap = 6, costH = 90;
    var plotW = width - left - right;
    var end = Math.max(run.wall_time_s, 0.001);
    turns.forEach(function (t) {
      end = Math.max(end, t.start_offset_s + t.duration_s);
      t.tools.forEach(function (x) { end = Math.max(end, x[1] + x[2]); });
    });
    var x = function (s) { return left + (s / end) * plotW; };
    var rows = [];
    var y = top;
    turns.forEach(function (t, i) {
      if (t.escalation) { rows.push({ kind: "escalation", turn: t, y: y }); y += 22; }
      // the label goes after the bar, else before it, else on a line of its own under it: never over the names
      var x0 = x(t.start_offset_s), w = Math.max(x(t.start_offset_s + t.duration_s) - x0, 2);
      var label = turnLabel(t), tw = textWidth(label);
      var place = x0 + w + 6 + tw < width - 4 ? "after" : x0 - 6 - tw > left + 4 ? "before" : "below";
      rows.push({ kind: "turn", turn: t, y: y, label: label, place: place, x0: x0, w: w });
      y += rowH + (place === "below" ? 16 : 0);
      if (t.tools.length) { rows.push({ kind: "tools", turn: t, y: y }); y += toolH + 2; }
      var last = i === turns.length - 1;
      if (run.missed_escalation && t.stagnating && last) { rows.push({ kind: "missed", turn: t, y: y }); y += 22; }
      y += gap;
    });
    var costTop = y + 14;
    var height = costTop + costH + 34;
    var root = svg("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img", id: "waterfall",
      "aria-label": "waterfall of run " + run.run_id, preserveAspectRatio: "xMinYMin meet" });
    // time grid and axis
    var ticks = niceTicks(end, 8);
    var grid = svg("g", { "class": "grid" });
    var axis = svg("g", { "class": "axis" });
    ticks.forEach(function (s) {
      grid.appendChild(svg("line", { x1: x(s), x2: x(s), y1: top - 6, y2: costTop + costH }));
      axis.appendChild(svg("text", { x: x(s), y: top - 12, "text-anchor": "middle", text: fmtTick(s) }));
    });
    axis.appendChild(svg("text", { x: 8, y: top - 12, text: "time since the run started", fill: "#5d6677" }));
    root.appendChild(grid);
    root.appendChild(axis);
    rows.forEach(function (row) {
      var t = row.turn;
      if (row.kind === "escalation") {
        var e = t.escalation;
        var arrow = e[3] === "down" ? "↓ DE-ESCALATION " : "↑ ESCALATION ";
        var why = (e[2] || "no reason") + (e[4] ? ": \u201c" + e[4] + "\u201d" : "") +
          (e[5] ? "; the run was stagnating: should_escalate() said yes" : "");
        root.appendChild(svg("g", { "class": "escalation", "data-from": e[0], "data-to": e[1], "data-reason": e[2],
          "data-turn": t.index }, [
          svg("line", { x1: 8, x2: width - right, y1: row.y + 4, y2: row.y + 4, stroke: "#7a3fc2",
            "stroke-dasharray": "5 4" }),
          svg("text", { x: Math.max(8, Math.min(x(t.start_offset_s), width - 8 - 7.2 * (arrow + e[0] + e[1] + why).length
            - 40)), y: row.y + 17, fill: "#7a3fc2", "font-weight": "600",
            text: arrow + e[0] + " → " + e[1] + " (" + why + ")" }),
        ]));
      } else if (row.kind === "missed") {
        root.appendChild(svg("g", { "class": "missed-escalation", "data-turn": t.index }, [
          svg("text", { x: left, y: row.y + 14, fill: "#9a5a00", "font-weight": "600",
            text: "⚠ MISSED ESCALATION: the run was still stagnating when it ended, and never escalated" }),
        ]));
      } else if (row.kind === "turn") {
        var x0 = row.x0, w = row.w, label = row.label;
        var color = modelColor[t.model] || PALETTE[0];
        var g = svg("g", { "class": "turn" + (t.wasted ? " wasted" : ""), "data-index": t.index,
          "data-model": t.model, "data-wasted": t.wasted ? "true" : "false",
          "data-reasons": t.waste_reasons.join(","), "data-cost": t.cost, "data-duration": t.duration_s,
          "data-input": t.input_tokens, "data-output": t.output_tokens });
        g.appendChild(svg("title", { text: "turn " + t.index + " · " + t.model + " · " + label }));
        g.appendChild(svg("text", { x: 8, y: row.y + 17, text: "#" + t.index + " " + clip(t.model, 22),
          "font-weight": "600" }));
        g.appendChild(svg("rect", { x: x0, y: row.y + 3, width: w, height: rowH - 8, rx: 3, fill: color,
          stroke: t.wasted ? "#d1382f" : "none", "stroke-width": t.wasted ? 2.5 : 0 }));
        if (t.wasted) g.appendChild(svg("text", { "class": "waste-mark", x: x0 + 3, y: row.y + 17, fill: "#fff",
          "font-weight": "700", text: w > 14 ? "✕" : "" }));
        var lx = row.place === "after" ? x0 + w + 6 : row.place === "before" ? x0 - 6 :
          Math.max(left, Math.min(x0, width - 4 - textWidth(label)));
        g.appendChild(svg("text", { x: lx, y: row.y + 17 + (row.place === "below" ? 17 : 0),
          "text-anchor": row.place === "before" ? "end" : "start", fill: t.wasted ? "#d1382f" : "#1d2330",
          text: label }));
        root.appendChild(g);
      } else if (row.kind === "tools") {
        var tg = svg("g", { "class": "tools", "data-turn": t.index });
        tg.appendChild(svg("text", { x: 22, y: row.y + 12, fill: "#5d6677", text: "tools" }));
        t.tools.forEach(function (tool) {
          var tx = x(tool[1]), tw = Math.max(x(tool[1] + tool[2]) - tx, 2);
          var c = tool[3] ? "#e07b1f" : "#8a94a6";
          var name = tool[0] + (tool[3] ? " (error)" : "") + " " + secs(tool[2]);
          tg.appendChild(svg("rect", { "class": "tool", x: tx, y: row.y + 2, width: tw, height: toolH - 4, rx: 2,
            fill: c, "data-name": tool[0], "data-error": tool[3] ? "true" : "false" }, [svg("title", { text: name })]));
          var fits = tx + tw + 4 + textWidth(name) < width - 4;
          tg.appendChild(svg("text", { x: fits ? tx + tw + 4 : tx - 4, y: row.y + 12, fill: c,
            "text-anchor": fits ? "start" : "end", "font-size": "11", text: name }));
        });
        root.appendChild(tg);
      }
    });
    // cumulative cost, a step line on the same time axis
    var total = turns.length ? turns[turns.length - 1].cumulative_cost : 0;
    var cg = svg("g", { "class": "cumulative-cost" });
    cg.appendChild(svg("text", { x: 8, y: costTop + 14, text: "cumulative cost", "font-weight": "600" }));
    cg.appendChild(svg("text", { x: 8, y: costTop + 30, fill: "#5d6677", text: currency + " " + money(total) }));
    cg.appendChild(svg("line", { x1: left, x2: width - right, y1: costTop + costH, y2: costTop + costH,
      stroke: "#9aa3b2" }));
    if (total > 0) {
      var py = function (v) { return costTop + costH - (v / total) * (costH - 10); };
      var points = [[x(0), py(0)]];
      var prev = 0;
      turns.forEach(function (t) {
        var at = x(t.start_offset_s + t.duration_s);
        points.push([at, py(prev)]);
        points.push([at, py(t.cumulative_cost)]);
        prev = t.cumulative_cost;
      });
      points.push([x(end), py(prev)]);
      cg.appendChild(svg("polyline", { points: points.map(function (p) { return p[0].toFixed(1) + "," +
        p[1].toFixed(1); }).join(" "), fill: "none", stroke: "#c07a00", "stroke-width": 2 }));
      cg.appendChild(svg("text", { x: width - right, y: py(total) - 4, "text-anchor": "end", fill: "#c07a00",
        text: money(total) }));
    }
    root.appendChild(cg);
    root.appendChild(svg("text", { x: left, y: height - 8, fill: "#5d6677",
      text: "bars: turns (colour = model, red outline ✕ = wasted), grey: tool calls (orange: failed), " +
        "dashed purple: model change" }));
    return root;
  }
  function turnLabel(t) {
    var label = secs(t.duration_s) + " · " + tokens(t.input_tokens + t.output_tokens) + " tok · " + money(t.cost);
    if (t.wasted) label += "  ✕ wasted: " + t.waste_reasons.join(", ");
    if (t.stagnating) label += "  (stagnating)";
    if (t.error_type) label += "  error=" + t.error_type;
    return label;
  }
  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  function niceTicks(end, count) {
    var raw = end / count;
    var mag = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
    var step = [1, 2, 5, 10].map(function (m) { return m * mag; }).filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var s = 0; s <= end + 1e-9; s += step) out.push(s);
    return out;
  }
  function fmtTick(s) { return (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2).replace(/0$/, "")) + "s"; }

  function turnTable(turns) {
    var head = ["#", "model", "start", "duration", "input", "re-sent", "cache share", "output", "thinking",
      "cost " + currency, "cumulative", "wasted (reasons)", "tools"];
    var body = turns.map(function (t) {
      var share = t.cache_share;
      return el("tr", { "class": "turn-row" + (t.wasted ? " waste" : ""), "data-index": t.index }, [
        el("td", { text: t.index }), el("td", { "class": "t", text: t.model }),
        el("td", { text: secs(t.start_offset_s) }), el("td", { text: secs(t.duration_s) }),
        el("td", { text: tokens(t.input_tokens) }),
        el("td", { text: t.resent_input_tokens === null ? "-" : tokens(t.resent_input_tokens) }),
        el("td", {}, [share === null ? "-" : pct(share) + " ",
          share === null ? null : el("span", { "class": "bar cache", style: "width:" + Math.round(share * 40) + "px" })]),
        el("td", { text: tokens(t.output_tokens) }), el("td", { text: tokens(t.reasoning_tokens) }),
        el("td", { text: money(t.cost) }), el("td", { text: money(t.cumulative_cost) }),
        el("td", { "class": "t", text: t.wasted ? t.waste_reasons.join(", ") : (t.stagnating ? "(stagnating)" : "-") }),
        el("td", { "class": "t", text: t.tools.map(function (x) { return x[0] + (x[3] ? " (error)" : ""); })
          .join(", ") || "-" }),
      ]);
    });
    return el("div", { "class": "wrap" }, [el("table", { id: "turns-table" }, [
      el("thead", {}, [el("tr", {}, head.map(function (h, i) { return el("th", { "class": i === 1 || i > 10 ? "t" : "",
        text: h }); }))]),
      el("tbody", {}, body)])]);
  }
  function runSection() {
    var section = el("section", { id: "run-view" });
    var chosen = selectedRun();
    if (!chosen) { section.appendChild(el("p", { text: "No runs." })); return section; }
    var run = chosen.run, turns = turnsOf(run);
    section.setAttribute("data-run-id", run.run_id);
    section.appendChild(el("h2", { text: "Run " + run.run_id + " (" + chosen.how + ")" }));
    var facts = [["agent", run.agent], ["service", run.service || "-"], ["models", run.models.join(", ")],
      ["outcome", run.outcome], ["turns", run.turns], ["wasted", run.wasted_turns + (run.wasted_turns ? " (" +
      reasons(run.wasted_by_reason) + ")" : "")], ["cost", currency + " " + runCost(run)], ["wall", secs(run.wall_time_s)],
      ["stagnated", run.stagnated ? "yes" : "no"], ["missed escalation", run.missed_escalation ? "YES" : "no"]];
    var factsDiv = el("div", { "class": "facts" }, facts.map(function (f) {
      return el("div", {}, [el("span", { "class": "k", text: f[0] }), el("span", { text: String(f[1]) })]);
    }));
    factsDiv.appendChild(el("div", {}, [el("span", { "class": "k", text: "trace" }), traceLink(run)]));
    section.appendChild(factsDiv);
    section.appendChild(turns.length ? waterfall(run, turns) : el("p", { "class": "muted", text: "No turns." }));
    section.appendChild(el("h3", { text: "Turns and their context tax" }));
    section.appendChild(turnTable(turns));
    section.appendChild(legend([["re-sent", "input tokens this turn sent again from earlier turns (the context tax)"],
      ["cache share", "cached input tokens / input tokens"], ["cumulative", "the run's cost up to this turn"]]));
    return section;
  }

  // --- models: efficiency table and the price-reversal chart --------------------------------------------------------
  function modelsSection() {
    var section = el("section", { id: "models" }, [el("h2", { text: "Models (" + data.models.length + ")" })]);
    var head = ["agent", "model", "runs", "success", "cost per successful run", "score per 1k tokens",
      "thinking share of cost", "effective $/1M tokens", "list $/1M tokens", "price reversal"];
    var body = data.models.map(function (m) {
      var perOk = m.cost_per_successful_run === null && m.cost > 0 ? "never succeeded" : money(m.cost_per_successful_run);
      var rev = m.reversals.map(function (r) {
        return "listed " + pct(r.listed_discount) + " cheaper than " + r.pricier_listed + ", " +
          (r.extra_cost === null ? "never succeeded" : pct(r.extra_cost) + " more per successful run");
      }).join("; ");
      return el("tr", { "class": "model-row", "data-model": m.model, "data-agent": m.agent }, [
        el("td", { "class": "t", text: m.agent }), el("td", { "class": "t", text: m.model }), el("td", { text: m.runs }),
        el("td", { text: pct(m.success_rate) }), el("td", { text: perOk }), el("td", { text: num(m.score_per_1k_tokens, 3) }),
        el("td", { text: pct(m.thinking_cost_share) }), el("td", { text: money(m.effective_price_per_1m) }),
        el("td", { text: money(m.list_price_per_1m) }), el("td", { "class": "t" + (rev ? " waste" : ""), text: rev || "-" }),
      ]);
    });
    section.appendChild(el("div", { "class": "wrap" }, [el("table", { id: "models-table" }, [
      el("thead", {}, [el("tr", {}, head.map(function (h, i) { return el("th", { "class": i < 2 || i === 9 ? "t" : "",
        text: h }); }))]), el("tbody", {}, body)])]));
    section.appendChild(legend([["effective $/1M", "what a million tokens really cost: cost / (input + output)"],
      ["list $/1M", "the list price, 3 input : 1 output"],
      ["price reversal", "a model listed cheaper that costs more per successful run"]]));
    section.appendChild(el("h3", { text: "List price against cost per successful run" }));
    section.appendChild(priceChart());
    return section;
  }
  function priceChart() {
    var points = data.models.filter(function (m) { return m.list_price_per_1m !== null && m.cost > 0; });
    if (!points.length) return el("p", { "class": "muted", id: "price-chart", text: "No list prices known for these " +
      "models: the chart needs them (see the notes)." });
    var width = 900, height = 360, left = 80, right = 220, top = 20, bottom = 50;
    var maxX = Math.max.apply(null, points.map(function (m) { return m.list_price_per_1m; })) * 1.15 || 1;
    var ys = points.map(function (m) { return m.cost_per_successful_run; }).filter(function (v) { return v !== null; });
    var maxY = (ys.length ? Math.max.apply(null, ys) : 1) * 1.15 || 1;
    var px = function (v) { return left + (v / maxX) * (width - left - right); };
    var py = function (v) { return v === null ? top + 8 : top + 20 + (1 - v / maxY) * (height - top - bottom - 20); };
    var root = svg("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", id: "price-chart", role: "img",
      "aria-label": "list price against cost per successful run", style: "max-width:" + width + "px" });
    root.appendChild(svg("line", { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, stroke: "#9aa3b2" }));
    root.appendChild(svg("line", { x1: left, x2: left, y1: top, y2: height - bottom, stroke: "#9aa3b2" }));
    root.appendChild(svg("text", { x: (left + width - right) / 2, y: height - 12, "text-anchor": "middle",
      text: "list price, " + currency + " per 1M tokens (3 input : 1 output)" }));
    root.appendChild(svg("text", { x: 14, y: (top + height - bottom) / 2, "text-anchor": "middle",
      transform: "rotate(-90 14 " + (top + height - bottom) / 2 + ")", text: "cost per successful run (" + currency + ")" }));
    root.appendChild(svg("text", { x: left - 6, y: height - bottom + 4, "text-anchor": "end", text: "0" }));
    root.appendChild(svg("text", { x: left - 6, y: py(maxY / 1.15) + 4, "text-anchor": "end", text: money(maxY / 1.15) }));
    root.appendChild(svg("text", { x: px(maxX / 1.15), y: height - bottom + 16, "text-anchor": "middle",
      text: money(maxX / 1.15) }));
    var where = {};
    points.forEach(function (m) { where[m.agent + "\u0000" + m.model] = [px(m.list_price_per_1m), py(m.cost_per_successful_run)]; });
    points.forEach(function (m) {
      m.reversals.forEach(function (r) {
        var a = where[m.agent + "\u0000" + m.model], b = where[m.agent + "\u0000" + r.pricier_listed];
        if (a && b) root.appendChild(svg("line", { "class": "reversal", x1: a[0], y1: a[1], x2: b[0], y2: b[1],
          stroke: "#d1382f", "stroke-dasharray": "4 3", "stroke-width": 1.5 }));
      });
    });
    points.forEach(function (m) {
      var p = where[m.agent + "\u0000" + m.model];
      var reversed = m.reversals.length > 0;
      root.appendChild(svg("g", { "class": "price-point", "data-model": m.model }, [
        svg("circle", { cx: p[0], cy: p[1], r: 6, fill: reversed ? "#d1382f" : (modelColor[m.model] || PALETTE[0]) }),
        svg("text", { x: p[0] + 9, y: p[1] + 4, text: m.model + (m.cost_per_successful_run === null ?
          " (never succeeded)" : "") + (reversed ? "  ← price reversal" : ""), fill: reversed ? "#d1382f" : "#1d2330" }),
      ]));
    });
    return root;
  }

  function notesSection() {
    if (!data.notes.length) return null;
    return el("section", { id: "notes" }, [el("h2", { text: "Notes" }),
      el("ul", { "class": "notes" }, data.notes.map(function (n) { return el("li", { text: n }); }))]);
  }

  // --- the page -------------------------------------------------------------------------------------------------------
  var app = document.getElementById("app");
  var runsPart = runsSection();
  var runPart = runSection();
  app.textContent = "";
  append(app, [header(), el("main", {}, [cards(), runsPart, runPart, modelsSection(), notesSection()])]);
  window.addEventListener("hashchange", function () {
    var fresh = runSection();
    runPart.parentNode.replaceChild(fresh, runPart);
    runPart = fresh;
    runsPart.redraw();
    fresh.scrollIntoView();
  });
  document.body.setAttribute("data-ready", "true");
  document.body.setAttribute("data-render-ms", String(Math.round(performance.now())));
})();
