/* Live pages: parts of a page that another person's action changes are fetched again as
 * soon as the server says so (notifications/live.py publishes, the socket at
 * <body data-live-url> relays).
 *
 * A live part is any element with an id and
 *   data-live-refresh="URL"   where to fetch it again (a partial, or a page holding it);
 *   data-live-on="KINDS"      which events concern it: "inbox", "case" (any case the page
 *                             follows), "case:ID" (that case only).
 * The fetched HTML's element with the same id replaces it (htmx.ajax, select + outerHTML).
 *
 * The socket's token (<body data-live-token>) was signed by the view and lists the groups
 * this page may follow. Without a socket (no ASGI server, a proxy that drops it) the page
 * fetches its live parts every data-live-poll seconds instead, and keeps trying to connect
 * with a growing pause. After reconnecting it fetches everything once: nothing is missed.
 * A part the user is working in (focus in a field, a changed field, an open form) is not
 * replaced under their hands: it says it changed and offers to show the latest. */
(function () {
  "use strict";

  var body = document.body;
  var token = body.dataset.liveToken;
  var url = body.dataset.liveUrl;
  if (!token || !window.htmx) return;

  var POLL_MS = (Number(body.dataset.livePoll) || 20) * 1000;
  var GATHER_MS = 150; // events arriving together are fetched once
  var QUIET_MS = 2500; // a part the user just acted in keeps its answer this long
  var PING_MS = 25000;
  var since = Number(body.dataset.liveAt) || 0; // server time (ms) of what the page shows
  var socket = null;
  var connectedOnce = false;
  var failures = 0;
  var retryTimer = null;
  var pollTimer = null;
  var pingTimer = null;
  var pending = {}; // id -> true: parts waiting to be fetched
  var gatherTimer = null;

  function parts() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live-refresh][id]"));
  }

  function concerns(el, event) {
    var kinds = (el.dataset.liveOn || "").split(/\s+/);
    if (event.type === "case") {
      if (kinds.indexOf("case") >= 0) return true;
      var ids = event.ids || [];
      if (!ids.length) return kinds.some(function (k) { return k.indexOf("case:") === 0; });
      return ids.some(function (id) { return kinds.indexOf("case:" + id) >= 0; });
    }
    return kinds.indexOf(event.type) >= 0;
  }

  function dirty(field) {
    if (field.type === "hidden" || field.type === "submit" || field.type === "button") return false;
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.type === "file") return field.files && field.files.length > 0;
    if (field.tagName === "SELECT") {
      // With no option marked selected, a single select starts on its first option.
      var options = Array.prototype.slice.call(field.options);
      var marked = options.some(function (o) { return o.defaultSelected; });
      return options.some(function (o, i) {
        return o.selected !== (marked ? o.defaultSelected : i === 0 && !field.multiple);
      });
    }
    return field.value !== field.defaultValue;
  }

  // The user is working in it: typing, a form opened, something filled in.
  function busy(el) {
    var active = document.activeElement;
    if (active && el.contains(active) && active.matches("input, textarea, select, [contenteditable]")) return true;
    if (el.querySelector("details[open] form")) return true;
    return Array.prototype.some.call(el.querySelectorAll("input, textarea, select"), dirty);
  }

  function text(name) {
    var node = document.getElementById("live-text");
    return node ? node.dataset[name] : "";
  }

  function markStale(el) {
    if (el.querySelector(":scope > .live-stale")) return;
    var note = document.createElement("div");
    note.className = "live-stale alert alert-info py-1 px-2 small d-flex flex-wrap align-items-center gap-2";
    note.setAttribute("role", "status");
    note.setAttribute("data-testid", "live-stale");
    note.appendChild(document.createTextNode(text("stale") + " "));
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-primary py-0";
    button.textContent = text("refresh");
    button.addEventListener("click", function () { fetchPart(el, "force"); });
    note.appendChild(button);
    el.insertBefore(note, el.firstChild);
  }

  // how: "event" (the server said it changed), "poll" (it may have), "force" (the user asked).
  function fetchPart(el, how) {
    if (!document.body.contains(el)) return;
    var quietUntil = Number(el.dataset.liveQuiet || 0);
    if (how !== "force" && quietUntil > Date.now()) {
      setTimeout(function () { want(el, how); }, quietUntil - Date.now() + 10);
      return;
    }
    if (how !== "force" && busy(el)) {
      if (how === "event") markStale(el);
      return;
    }
    if (el.dataset.liveLoading) { el.dataset.liveAgain = how; return; }
    el.dataset.liveLoading = "1";
    var id = el.id;
    var selector = "#" + CSS.escape(id);
    window.htmx.ajax("GET", el.dataset.liveRefresh, { source: el, target: selector, select: selector, swap: "outerHTML" })
      .catch(function () { /* offline or refused: the next event or poll tries again */ })
      .then(function () {
        delete el.dataset.liveLoading; // the element is still there if nothing was swapped
        var again = el.dataset.liveAgain;
        delete el.dataset.liveAgain;
        var fresh = document.getElementById(id);
        if (again && fresh) want(fresh, again);
      });
  }

  function want(el, how) {
    if (pending[el.id] !== "event") pending[el.id] = how;
    if (!gatherTimer) {
      gatherTimer = setTimeout(function () {
        gatherTimer = null;
        var wanted = pending;
        pending = {};
        Object.keys(wanted).forEach(function (id) {
          var el = document.getElementById(id);
          if (el && el.dataset.liveRefresh) fetchPart(el, wanted[id]);
        });
      }, GATHER_MS);
    }
  }

  function refreshAll(how) { parts().forEach(function (el) { want(el, how); }); }

  function onEvent(event) {
    if (event.at) since = Math.max(since, event.at);
    parts().forEach(function (el) { if (concerns(el, event)) want(el, "event"); });
  }

  // --- fallback: polling while there is no socket -------------------------------------------
  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(function () { if (!document.hidden) refreshAll("poll"); }, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  // --- the socket ---------------------------------------------------------------------------
  function socketUrl() {
    var address = new URL(url, window.location.href);
    if (address.protocol === "https:") address.protocol = "wss:";
    if (address.protocol === "http:") address.protocol = "ws:";
    address.searchParams.set("token", token);
    return address.href;
  }

  function retryLater() {
    failures += 1;
    // 1, 2, 4 … 60 s, with jitter so a restarted server is not hit by every page at once;
    // a server that never answered (no ASGI server at all) is asked every five minutes.
    var pause = connectedOnce || failures < 6 ? Math.min(60000, 1000 * Math.pow(2, failures - 1)) : 300000;
    retryTimer = setTimeout(connect, pause * (0.75 + Math.random() * 0.5));
  }

  function connect() {
    retryTimer = null;
    var ws;
    try { ws = new WebSocket(socketUrl()); } catch (e) { startPolling(); retryLater(); return; }
    socket = ws;
    ws.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "hello") {
        var reconnected = connectedOnce;
        connectedOnce = true;
        failures = 0;
        stopPolling();
        body.dataset.liveState = "open";
        // Catch up: something was published for this page since what it shows was read
        // (`last`); after a break everything is fetched once anyway.
        if (event.last && event.last > since) refreshAll("event");
        else if (reconnected) refreshAll("poll");
        since = Math.max(since, event.at || 0, event.last || 0);
        return;
      }
      onEvent(event);
    };
    ws.onclose = function () {
      if (socket !== ws) return;
      socket = null;
      body.dataset.liveState = "closed";
      startPolling();
      retryLater();
    };
  }

  // A part the user just acted in (an htmx form inside it) keeps the answer visible a
  // moment; one they stopped working in is brought up to date.
  body.addEventListener("htmx:beforeRequest", function (event) {
    var config = event.detail.requestConfig || {};
    if (String(config.verb || "get").toLowerCase() === "get") return;
    var elt = event.detail.elt;
    var part = elt && elt.closest ? elt.closest("[data-live-refresh]") : null;
    if (part) part.dataset.liveQuiet = String(Date.now() + QUIET_MS);
  });
  function retryStale() {
    setTimeout(function () {
      document.querySelectorAll("[data-live-refresh] > .live-stale").forEach(function (note) {
        var el = note.parentElement;
        if (!busy(el)) fetchPart(el, "event");
      });
    }, 0);
  }
  document.addEventListener("focusout", retryStale);
  document.addEventListener("toggle", retryStale, true);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !socket) refreshAll("poll");
  });

  if (url) {
    connect();
    pingTimer = setInterval(function () {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send("ping");
    }, PING_MS);
  } else {
    startPolling();
  }
})();
