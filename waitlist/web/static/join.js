// The join page: the note's character count, live (the server counts the same limit). The code page:
// asks the server every 2 s whether the guest's text arrived, then opens the guest's status page.
(function () {
  "use strict";
  var notes = document.querySelector('input[name="notes"]');
  var count = document.getElementById("notes-count");
  if (notes && count) {
    var show = function () { count.textContent = notes.value.length + " / " + count.dataset.max; };
    notes.addEventListener("input", show);
    show();
  }

  var page = document.querySelector(".join-code[data-state-url]");
  var line = page && page.querySelector(".code-state");
  if (!line) { return; }
  var delay = 2000;
  function poll() {
    fetch(page.dataset.stateUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 429) { delay = Math.min(delay * 2, 30000); return null; }
        return response.ok ? response.json() : { state: "expired" };
      })
      .then(function (state) {
        if (state && state.state === "joined" && state.status_url) {
          line.textContent = line.dataset.joined;
          window.location.assign(state.status_url);
          return;
        }
        if (state && state.state === "expired") {
          line.textContent = line.dataset.expired;
          page.querySelector(".code-again").hidden = false;
          return;
        }
        window.setTimeout(poll, delay);
      })
      .catch(function () { delay = Math.min(delay * 2, 30000); window.setTimeout(poll, delay); });
  }
  window.setTimeout(poll, delay);
}());
