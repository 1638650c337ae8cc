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

  /* EventSource reconnects by itself after a dropped connection; after an error status it gives
     up, so start a new one a little later. A hidden page (a phone in a pocket) closes its stream,
     which frees a server thread, and reconnects when shown: the first event makes it catch up. */
  function listen(url, onChange) {
    var source = null, retry = null;
    function connect() {
      if (source || document.hidden) { return; }
      source = new EventSource(url);
      source.addEventListener("changed", onChange);
      source.addEventListener("error", function () {
        if (source && source.readyState === EventSource.CLOSED) {
          source = null;
          retry = setTimeout(connect, 3000);
        }
      });
    }
    function disconnect() {
      clearTimeout(retry);
      if (source) { source.close(); source = null; }
    }
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { disconnect(); } else { connect(); }
    });
    connect();
  }

  window.Live = {swap: swap, refresher: refresher, listen: listen};
})();
