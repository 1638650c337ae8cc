(function () {
  "use strict";
  var body = document.body;
  var refresh = Live.refresher(document.getElementById("board"), body.dataset.content);
  Live.listen(body.dataset.events, refresh);
  setInterval(refresh, 60000);

  var full = document.getElementById("fullscreen");
  if (document.documentElement.requestFullscreen) {
    full.hidden = false;
    full.addEventListener("click", function () { document.documentElement.requestFullscreen(); });
    document.addEventListener("fullscreenchange", function () { full.hidden = !!document.fullscreenElement; });
  }
})();
