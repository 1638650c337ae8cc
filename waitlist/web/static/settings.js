// The settings screen's live preview: as a text's wording is typed, the server renders it with long
// sample values and says its encoding, segments and what carriers may filter. The page works without
// this (its Preview button posts the form).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.template")) {
    const body = form.querySelector("textarea");
    const out = form.querySelector(".preview");
    const token = form.querySelector("input[name=csrf_token]").value;
    let timer = null;
    const line = (text, cls) => {
      const p = document.createElement("p");
      p.textContent = text;
      if (cls) p.className = cls;
      out.appendChild(p);
    };
    body.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const answer = await fetch(form.dataset.preview, {
          method: "POST",
          headers: {"Content-Type": "application/json", "X-CSRF-Token": token, "X-Requested-With": "fetch"},
          body: JSON.stringify({language: form.dataset.language, kind: form.dataset.kind, body: body.value}),
        }).catch(() => null);
        if (!answer) return;
        const data = await answer.json().catch(() => ({}));
        out.replaceChildren();
        if (!answer.ok) {
          const fields = (data.error && data.error.fields) || {};
          line((fields.body || [data.error ? data.error.message : "could not preview"])[0], "field-error");
          return;
        }
        line(data.first_text || data.text, "preview-text");
        line(`${data.encoding} · ${data.characters} characters · ${data.segments} segment${data.segments === 1 ? "" : "s"}`, "small");
        for (const w of data.warnings) line(w, "field-error");
      }, 300);
    });
  }
});
