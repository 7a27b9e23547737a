// Small behaviours htmx does not cover. No inline handlers: the CSP forbids them.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  const text = "value" in source ? source.value : source.textContent;
  navigator.clipboard.writeText(text.trim()).then(function () {
    button.textContent = "Copied";
  });
});

// A new request clears the last error; a failed one moves focus to what needs attention.
document.addEventListener("htmx:beforeRequest", function () {
  const flash = document.getElementById("flash");
  if (flash) flash.replaceChildren();
});
document.addEventListener("htmx:afterSwap", function (event) {
  const invalid = document.querySelector("form [aria-invalid=true]");
  if (invalid) invalid.focus();
});

// Print the prep sheet (no inline handlers under the CSP).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});

// Answers and notes save as they are typed; say so, and say so when a save fails.
document.addEventListener("htmx:afterRequest", function (event) {
  const field = event.detail.elt;
  if (!field.matches || !field.matches("[data-autosave]")) return;
  const status = document.getElementById(field.getAttribute("aria-describedby"));
  if (!status) return;
  if (event.detail.successful) {
    status.textContent = "Saved";
    status.className = "save-status save-ok";
  } else {
    status.textContent = "Not saved: your text is still here. Check your connection; it will be sent again as you type.";
    status.className = "save-status save-failed";
  }
});

// While a file is importing, say how far it has got (the import reports its progress).
document.addEventListener("htmx:beforeRequest", function (event) {
  const form = event.detail.elt;
  if (!form.matches || !form.matches("#import-form")) return;
  const lines = document.getElementById("progress-lines");
  form.dataset.poll = window.setInterval(function () {
    fetch("/imports/progress", { headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        const doc = new DOMParser().parseFromString(html, "text/html");
        const fresh = doc.getElementById("progress-lines");
        if (fresh && lines) lines.textContent = fresh.textContent;
      });
  }, 700);
});
document.addEventListener("htmx:afterRequest", function (event) {
  const form = event.detail.elt;
  if (form.matches && form.matches("#import-form") && form.dataset.poll) {
    window.clearInterval(Number(form.dataset.poll));
    delete form.dataset.poll;
  }
});

// A new account takes the time zone of the device it is created on.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
    if (input.value) return;
    try {
      input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      input.value = "";
    }
  });
});
