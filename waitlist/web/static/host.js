/* Host stand: forms are submitted with fetch. A "changed" event naming parties patches just their rows
   (fetched from /rows); anything else, or a patch that does not add up, re-reads the whole list. */
(function () {
  "use strict";
  var body = document.body;
  var list = document.getElementById("list");
  var addForm = document.getElementById("add-form");
  var sizeInput = document.getElementById("add-size");
  var quote = document.getElementById("quote");
  var editDialog = document.getElementById("edit-dialog");
  var editForm = document.getElementById("edit-form");
  var drawer = document.getElementById("drawer");
  var drawerBody = document.getElementById("drawer-body");
  var drawerForm = document.getElementById("drawer-form");
  var toast = document.getElementById("toast");
  var toastUndo = document.getElementById("toast-undo");
  var chatUrl = null, toastTimer = null;

  function signIn() { window.location.href = body.dataset.signin; }

  function post(url, form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }  /* a preset's minutes */
    return fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRF-Token": body.dataset.csrf, "X-Requested-With": "fetch", "Accept": "application/json"}
    }).then(function (r) {
      if (r.status === 401) { signIn(); }
      if (r.ok) { return {ok: true, status: r.status, data: null, response: r}; }
      return r.json().catch(function () { return {}; }).then(function (data) {
        return {ok: false, status: r.status, data: (data && data.error) || {message: "Something went wrong"}};
      });
    });
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function showErrors(form, error) {
    var fields = error.fields || {};
    if (error.code === "already_waiting") { fields = {phone: [error.message]}; }  /* the server's words, as without script */
    if (!Object.keys(fields).length) { fields = {_schema: [error.message]}; }
    /* every field's every message at once, each beside its field; one without a place goes above the button */
    Object.keys(fields).forEach(function (name) {
      var slot = form.querySelector('[data-error-for="' + name + '"]');
      var text = fields[name].join(" ");
      if (!slot) {
        slot = form.querySelector('[data-error-for="_schema"]');
        text = (name === "_schema" ? "" : name + ": ") + text;
        if (slot && slot.textContent) { text = slot.textContent + " " + text; }
      }
      if (slot) { slot.textContent = text; }
      var input = form.elements[name];
      if (input && input.setAttribute) { input.setAttribute("aria-invalid", "true"); }
    });
    var first = form.querySelector("input[aria-invalid], select[aria-invalid]");
    if (first) { first.focus(); }
  }

  function say(text, undoUrl) {
    document.getElementById("toast-text").textContent = text;
    toastUndo.hidden = !undoUrl;
    if (undoUrl) { toastUndo.action = undoUrl; }
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, undoUrl ? 60000 : 4000);
  }

  /* --- keeping the list current --- */
  var MAX_PATCH = 20;  /* more changed parties than this: one whole re-read costs less than the rows */
  var LISTS = ["called", "waiting", "pending"];
  var queue = Promise.resolve(), fullQueued = false;

  /* Updates run one after another, so an older answer never lands over a newer one. */
  function enqueue(task) { queue = queue.then(task, task); return queue; }

  function getting(url, accept) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": accept, "X-Requested-With": "fetch"}})
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { signIn(); return null; }
        return r.ok ? r : Promise.reject(new Error(String(r.status)));
      });
  }

  function readWhole() {
    return getting(body.dataset.list, "text/html")
      .then(function (r) { return r && r.text(); })
      .then(function (html) { if (html) { Live.swap(list, html); tick(); age(); } })
      .catch(function () { /* offline for a moment: the next event or tick retries */ });
  }

  /* The whole list again (at most one waiting: it covers every change before it starts). */
  function refresh() {
    if (fullQueued) { return queue; }
    fullQueued = true;
    return enqueue(function () { fullQueued = false; return readWhole(); });
  }

  function container(name) {
    return name === "finished" ? list.querySelector("#finished ul") : list.querySelector("ol.parties." + name);
  }

  function byId(id) {
    var quoted = window.CSS && CSS.escape ? CSS.escape(id) : id;
    return list.querySelectorAll('[data-id="' + quoted + '"]');
  }

  /* Places in line follow the rows' order once rows came or went. */
  function renumber() {
    var rows = list.querySelectorAll("ol.parties.waiting > li.party");
    Array.prototype.forEach.call(rows, function (row, i) {
      var pos = row.querySelector(".pos");
      if (!pos) { return; }
      var label = document.createElement("span");
      label.className = "sr-only";
      label.textContent = "Place ";
      pos.textContent = "";
      pos.appendChild(label);
      pos.appendChild(document.createTextNode(String(i + 1)));
    });
  }

  function summarize(counts) {
    var summary = list.querySelector(".summary"), parts = [[counts.waiting, " waiting"]];
    if (counts.called) { parts.push([counts.called, " called"]); }
    if (counts.pending) { parts.push([counts.pending, " awaiting confirmation"]); }
    if (summary) {
      summary.textContent = "";
      parts.forEach(function (part, i) {
        if (i) { summary.appendChild(document.createTextNode(" · ")); }
        var n = document.createElement("strong");
        n.textContent = String(part[0]);
        summary.appendChild(n);
        summary.appendChild(document.createTextNode(part[1]));
      });
    }
    var finished = list.querySelector(".finished-count");
    if (finished) { finished.textContent = String(counts.finished); }
  }

  /* Put each row where the server says it stands; false when the page cannot show it so (its list is
     not on the page, a list would empty, or the counts disagree): then the whole list is re-read. */
  function apply(data) {
    var reopen = [];
    data.rows.forEach(function (row) {
      byId(row.id).forEach(function (el) {
        var menu = el.querySelector("details.menu[open]");
        if (menu) { reopen.push(menu.id); }
        el.parentNode.removeChild(el);
      });
    });
    var fits = true;
    data.rows.slice().sort(function (a, b) { return a.index - b.index; }).forEach(function (row) {
      if (row.list === "gone") { return; }
      var into = container(row.list), holder = document.createElement("template");
      holder.innerHTML = row.html.trim();
      var el = holder.content.firstElementChild;
      if (!into || !el) { fits = false; return; }
      into.insertBefore(el, row.list === "finished" ? into.firstElementChild : into.children[row.index] || null);
    });
    LISTS.concat(["finished"]).forEach(function (name) {
      var into = container(name), shown = into ? into.children.length : 0;
      if (shown !== data.counts[name] || (into && shown === 0 && name !== "finished")) { fits = false; }
    });
    if (!fits) { return false; }
    reopen.forEach(function (id) { var d = document.getElementById(id); if (d) { d.open = true; } });
    renumber();
    summarize(data.counts);
    tick();
    age();
    return true;
  }

  /* Just these parties' rows, in one small request. */
  function patch(ids) {
    if (!ids.length) { return queue; }
    if (ids.length > MAX_PATCH || !body.dataset.rows) { return refresh(); }
    return enqueue(function () {
      if (fullQueued) { return null; }  /* a whole re-read is on its way */
      return getting(body.dataset.rows + "?ids=" + ids.map(encodeURIComponent).join(","), "application/json")
        .then(function (r) { return r && r.json(); })
        .then(function (data) { if (data && !apply(data)) { return readWhole(); } })
        .catch(readWhole);
    });
  }

  /* A staff stream's "changed" carries {"id", "parties": [...]} or {"all": true}; an older server sent
     only an id, and the polling fallback sends {"all": true}: those re-read the whole list. */
  function changed(event) {
    var data = null;
    try { data = JSON.parse(event.data); } catch (e) { data = null; }
    if (data && typeof data === "object" && !data.all && Array.isArray(data.parties)) {
      patch(data.parties.filter(function (id) { return typeof id === "string" && id; }));
    } else {
      refresh();
    }
  }

  /* After one of this tablet's own actions: its party's row, or everything when it is not known. */
  function changedParty(url) {
    var found = /\/parties\/([A-Za-z0-9_-]+)\//.exec(url || "");
    return found ? patch([found[1]]) : refresh();
  }

  /* A called party's hold counts down from the seconds left when the list was rendered (the tablet's
     clock may be off; without script the row shows the time the hold ends). */
  function tick() {
    var now = Date.now();
    list.querySelectorAll("[data-countdown]").forEach(function (el) {
      if (!el.dataset.start) { el.dataset.start = String(now); }
      var left = Math.round(parseInt(el.dataset.countdown, 10) - (now - parseInt(el.dataset.start, 10)) / 1000);
      if (left > 0) {
        var seconds = left % 60;
        el.textContent = Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds + " left";
      } else {
        el.textContent = "hold over";
        el.classList.add("expired");
      }
    });
  }
  tick();
  setInterval(tick, 1000);
  new MutationObserver(tick).observe(list, {childList: true});  /* a re-rendered list starts at once */

  /* One menu open at a time; a tap elsewhere or Escape closes it. */
  list.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!menu.classList || !menu.classList.contains("menu") || !menu.open) { return; }
    list.querySelectorAll("details.menu[open]").forEach(function (other) { if (other !== menu) { other.open = false; } });
  }, true);
  function closeMenus(except) {
    list.querySelectorAll("details.menu[open]").forEach(function (menu) { if (menu !== except) { menu.open = false; } });
  }
  document.addEventListener("click", function (event) { closeMenus(event.target.closest && event.target.closest("details.menu")); });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = list.querySelector("details.menu[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });

  function loadChat() {
    if (!chatUrl) { return; }
    fetch(chatUrl, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { drawerBody.innerHTML = html; drawerBody.scrollTop = drawerBody.scrollHeight; });
  }

  Live.listen(body.dataset.events, function (event) {
    changed(event);
    if (!drawer.hidden) { loadChat(); }
    document.dispatchEvent(new CustomEvent("host:changed", {detail: event.data}));  /* the floor (floor.js) */
  });
  /* Minutes waited move on, and a row goes red past its quote, without a re-read: each row carries the
     seconds waited and the seconds until it is over its quote when rendered. An undo button lapses after
     a minute: its row is read again then. A whole re-read every 5 minutes is the safety net. */
  var UNDO_MS = 61000;
  function age() {
    var now = Date.now();
    list.querySelectorAll("[data-waited]").forEach(function (el) {
      if (!el.dataset.start) { el.dataset.start = String(now); }
      var elapsed = (now - parseInt(el.dataset.start, 10)) / 1000;
      var minutes = Math.floor((parseInt(el.dataset.waited, 10) + elapsed) / 60);
      if (el.firstChild && el.firstChild.nodeType === 3) { el.firstChild.nodeValue = String(minutes); }
      if (el.dataset.overIn && elapsed >= parseInt(el.dataset.overIn, 10)) {
        el.classList.add("over");
        var row = el.closest(".party");
        if (row) { row.classList.add("is-over"); }
      }
    });
    list.querySelectorAll('[data-id] form[data-action="undo"]').forEach(function (form) {
      if (form.dataset.seen) { return; }
      form.dataset.seen = "1";
      var row = form.closest("[data-id]");
      setTimeout(function () { if (row.isConnected) { patch([row.dataset.id]); } }, UNDO_MS);
    });
  }
  age();
  setInterval(age, 15000);
  setInterval(refresh, 300000);

  /* --- adding a party (a viewer's stand has no add form) --- */
  if (addForm) { wireAddForm(); }
  function wireAddForm() {
    var quoteTimer = null;
    function showQuote() {
      var size = parseInt(sizeInput.value, 10);
      document.querySelectorAll(".size").forEach(function (b) {
        b.setAttribute("aria-pressed", String(parseInt(b.dataset.size, 10) === size));
      });
      if (!size || size < 1 || size > parseInt(sizeInput.max, 10)) { quote.textContent = ""; return; }  /* refused */
      fetch(body.dataset.quote + "?party_size=" + size, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (parseInt(sizeInput.value, 10) !== size) { return; }  /* the form moved on meanwhile */
          quote.textContent = data ? "Quote for " + size + ": " + data.range + " min" : "";
        });
    }
    document.querySelectorAll(".size").forEach(function (button) {
      button.addEventListener("click", function () {
        sizeInput.value = button.dataset.size;
        showQuote();
      });
    });
    sizeInput.addEventListener("input", function () { clearTimeout(quoteTimer); quoteTimer = setTimeout(showQuote, 150); });

    /* The note's count against the server's limit (the same number is the field's maxlength). */
    var notes = addForm.elements.notes, count = document.getElementById("notes-count");
    function countNotes() {
      var max = parseInt(count.dataset.max, 10);
      count.textContent = notes.value.length + " / " + max;
      count.classList.toggle("full", notes.value.length >= max);
    }
    notes.addEventListener("input", countNotes);

    addForm.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(addForm);
      var name = addForm.elements.name.value;
      post(addForm.action, addForm).then(function (result) {
        if (result.ok) {
          addForm.reset();
          showQuote();
          countNotes();
          addForm.elements.name.focus();
          say("Added " + name + ".");
          result.response.json().then(function (added) { patch([added.id]); }, refresh);
        } else if (result.status !== 401) {
          showErrors(addForm, result.data);
        }
      });
    });
  }

  /* --- one-tap actions in the list (and undo in the toast) --- */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-fetch") && form !== toastUndo) { return; }
    event.preventDefault();
    var action = form.dataset.action, name = form.dataset.name, submitter = event.submitter;
    closeMenus(null);
    post(form.action, form, submitter).then(function (result) {
      if (result.ok) {
        var undo = form.action.replace(/\/[a-z-]+$/, "/undo");
        if (action === "seat" || action === "remove" || action === "no-show") {
          var verb = {seat: "Seated", remove: "Removed", "no-show": "Marked no-show:"}[action];
          say(verb + " " + name + ".", undo);
        } else if (form === toastUndo || action === "undo") {
          say("Undone.");
        } else if (action === "notify") {
          say("Texted " + name + ": table ready.", undo);
        } else if (action === "quote") {
          say("Quote for " + name + ": " + submitter.value + " min.");
        }
        changedParty(form.action);
      } else if (result.status !== 401) {
        say(result.data.message);
        refresh();
      }
    });
  });

  /* --- edit --- */
  list.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    var row = button.closest(".party");
    if (!row) { return; }
    if (button.hasAttribute("data-edit")) {
      clearErrors(editForm);
      editForm.action = row.dataset.editUrl;
      editForm.elements.name.value = row.dataset.name;
      editForm.elements.party_size.value = row.dataset.size;
      editForm.elements.notes.value = row.dataset.notes;
      editForm.elements.seating.value = row.dataset.seating;
      editDialog.showModal();
      editForm.elements.name.focus();
    } else if (button.hasAttribute("data-chat")) {
      chatUrl = row.dataset.chatUrl;
      drawerForm.action = row.dataset.sendUrl;
      document.getElementById("drawer-title").textContent = "Texts";
      drawer.hidden = false;
      drawerBody.innerHTML = "";
      loadChat();
      drawerForm.elements.body.focus();
    }
  });
  editForm.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(editForm);
    post(editForm.action, editForm).then(function (result) {
      if (result.ok) { editDialog.close(); changedParty(editForm.action); } else if (result.status !== 401) { showErrors(editForm, result.data); }
    });
  });
  editDialog.querySelector("[data-close]").addEventListener("click", function () { editDialog.close(); });

  /* --- conversation drawer --- */
  drawer.querySelector("[data-close-drawer]").addEventListener("click", function () { drawer.hidden = true; chatUrl = null; });
  drawerForm.addEventListener("submit", function (event) {
    event.preventDefault();
    post(drawerForm.action, drawerForm).then(function (result) {
      if (result.ok) { drawerForm.elements.body.value = ""; loadChat(); } else if (result.status !== 401) { say(result.data.message); }
    });
  });
})();
