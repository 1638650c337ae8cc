(function () {
  "use strict";
  var body = document.body;
  var refresh = Live.refresher(document.getElementById("status"), body.dataset.status);
  Live.listen(body.dataset.events, refresh);
  setInterval(refresh, 60000);
})();
