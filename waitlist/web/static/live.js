/* Live pages: listen for "changed" server-sent events and re-fetch a fragment of the page. */
(function () {
  "use strict";

  /* Replace a container's HTML, keeping open <details> open (they are re-rendered closed). */
  function swap(container, html) {
    var open = Array.prototype.map.call(container.querySelectorAll("details[open][id]"), function (d) { return d.id; });
    container.innerHTML = html;
    open.forEach(function (id) {
      var d = document.getElementById(id);
      if (d) { d.open = true; }
    });
  }

  /* A refresher that never runs two fetches at once and never drops a change. */
  function refresher(container, url, onUnauthorized) {
    var busy = false, again = false;
    function run() {
      if (busy) { again = true; return Promise.resolve(); }
      busy = true;
      return fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html", "X-Requested-With": "fetch"}})
        .then(function (r) {
          if ((r.status === 401 || r.status === 403) && onUnauthorized) { onUnauthorized(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) { if (html !== null) { swap(container, html); } })
        .catch(function () { /* offline for a moment: the next event or tick retries */ })
        .then(function () {
          busy = false;
          if (again) { again = false; run(); }
        });
    }
    return run;
  }

  /* EventSource reconnects by itself after a dropped connection (or a stream that ended with a
     "retry:" hint); after an error status (a 429 when too many live pages are open, a 503) it gives
     up: the page then polls, calling onChange every POLL_MS or so as if told "everything changed",
     and tries its stream again after STREAM_AGAIN_MS, both spread at random so a crowd of pages
     does not come back at once. A hidden page (a phone in a pocket) closes its stream and stops
     polling, and catches up when shown. */
  var POLL_MS = 10000, STREAM_AGAIN_MS = 60000;
  function spread(ms) { return ms * (0.75 + Math.random() / 2); }
  function listen(url, onChange) {
    var source = null, retry = null, poll = null;
    var everything = {type: "changed", data: JSON.stringify({all: true})};
    function stopPolling() { clearInterval(poll); poll = null; }
    function startPolling() {
      if (poll) { return; }
      poll = setInterval(function () { onChange(everything); }, spread(POLL_MS));
    }
    function connect() {
      clearTimeout(retry);
      if (source || document.hidden) { return; }
      source = new EventSource(url);
      source.addEventListener("open", stopPolling);
      source.addEventListener("changed", onChange);
      source.addEventListener("error", function () {
        if (source && source.readyState === EventSource.CLOSED) {
          source = null;
          startPolling();
          onChange(everything);
          retry = setTimeout(connect, spread(STREAM_AGAIN_MS));
        }
      });
    }
    function disconnect() {
      clearTimeout(retry);
      stopPolling();
      if (source) { source.close(); source = null; }
    }
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { disconnect(); } else { connect(); }
    });
    connect();
  }

  window.Live = {swap: swap, refresher: refresher, listen: listen};
})();
