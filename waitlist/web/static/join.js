// The join page: the note's character count, live (the server counts the same limit).
(function () {
  "use strict";
  var notes = document.querySelector('input[name="notes"]');
  var count = document.getElementById("notes-count");
  if (!notes || !count) { return; }
  function show() { count.textContent = notes.value.length + " / " + count.dataset.max; }
  notes.addEventListener("input", show);
  show();
}());
