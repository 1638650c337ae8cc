/* Development phone: poll the chat (the outbox fills when a worker sends) and reply with fetch. */
(function () {
  "use strict";
  var body = document.body, area = document.getElementById("chat-area"), form = document.getElementById("reply-form");
  function refresh() {
    fetch(body.dataset.chat, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { area.innerHTML = html; } })
      .catch(function () {});
  }
  setInterval(refresh, 1500);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"X-CSRF-Token": body.dataset.csrf, "X-Requested-With": "fetch", "Accept": "application/json"}})
      .then(function (r) {
        if (r.ok) {
          var number = form.elements.number.value;
          form.elements.body.value = "";
          if (body.dataset.chat.indexOf(encodeURIComponent(number)) === -1) {
            window.location.search = "?number=" + encodeURIComponent(number);
            return;
          }
          refresh();
        } else {
          r.json().then(function (data) { alert(data.error ? data.error.message : "failed"); });
        }
      });
  });
})();
