/* The floor strip beside the host stand's list. It is re-read after every live change (host.js passes
   each "changed" event on as "host:changed": table events name no party, so no row patch covers them)
   and every 30 s (minutes in a state move on). Tapping a table opens its panel in a dialog; the panel's
   forms (call or seat a party here, clear, block, unblock) are posted with fetch. Without script the
   strip's links open the panel as a page and its forms post and come back. */
(function () {
  "use strict";
  var body = document.body;
  var floor = document.getElementById("floor");
  var dialog = document.getElementById("table-dialog");
  var panel = document.getElementById("table-panel");
  if (!floor || !dialog || !panel || !body.dataset.floor || !window.Live) { return; }
  var toast = document.getElementById("toast"), toastText = document.getElementById("toast-text");
  var toastUndo = document.getElementById("toast-undo");
  var panelUrl = null, toastTimer = null;

  function signIn() { window.location.href = body.dataset.signin; }

  var refreshFloor = Live.refresher(floor, body.dataset.floor, signIn);
  new MutationObserver(function () { floor.hidden = !floor.querySelector(".floor-strip"); })
    .observe(floor, {childList: true});

  function say(text, undoUrl) {
    if (!toast || !toastText) { return; }
    toastText.textContent = text;
    if (toastUndo) {
      toastUndo.hidden = !undoUrl;
      if (undoUrl) { toastUndo.action = undoUrl; }  /* host.js posts the undo and says "Undone." */
    }
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, undoUrl ? 60000 : 4000);
  }

  function loadPanel() {
    if (!panelUrl) { return Promise.resolve(false); }
    var url = panelUrl;
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html", "X-Requested-With": "fetch"}})
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { signIn(); return null; }
        if (r.status === 404) { closePanel(); return null; }  /* the table left the floor */
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null || url !== panelUrl) { return false; }
        panel.innerHTML = html;
        return true;
      })
      .catch(function () { return false; });
  }

  function closePanel() {
    panelUrl = null;
    if (dialog.open) { dialog.close(); }
  }

  floor.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-table-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    panelUrl = link.href;
    panel.innerHTML = "";
    loadPanel().then(function (shown) {
      if (!shown) { return; }
      if (!dialog.open) { dialog.showModal(); }
      var first = panel.querySelector("button");
      if (first) { first.focus(); }
    });
  });
  dialog.querySelector("[data-close-table]").addEventListener("click", closePanel);
  dialog.addEventListener("close", function () { panelUrl = null; });

  var DONE = {
    call: function (f) { return "Called " + f.dataset.name + " to table " + f.dataset.table + "."; },
    seat: function (f) { return "Seated " + f.dataset.name + " at table " + f.dataset.table + "."; },
    clear: function (f) { return "Table " + f.dataset.table + " cleared."; },
    block: function (f) { return "Table " + f.dataset.table + " blocked."; },
    unblock: function (f) { return "Table " + f.dataset.table + " unblocked."; }
  };

  panel.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-floor")) { return; }
    event.preventDefault();
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"X-CSRF-Token": body.dataset.csrf, "X-Requested-With": "fetch", "Accept": "application/json"}
    }).then(function (r) {
      if (r.status === 401) { signIn(); return; }
      if (r.ok) {
        closePanel();
        say(DONE[form.dataset.action](form), form.dataset.undo || null);
        refreshFloor();
        return;
      }
      return r.json().catch(function () { return {}; }).then(function (data) {
        var message = (data && data.error && data.error.message) || "Something went wrong";
        return loadPanel().then(function () {
          var slot = panel.querySelector(".panel-error");
          if (slot) { slot.textContent = message; }
          refreshFloor();
        });
      });
    }).catch(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  });

  document.addEventListener("host:changed", function () {
    refreshFloor();
    if (dialog.open) { loadPanel(); }
  });
  setInterval(refreshFloor, 30000);
})();
