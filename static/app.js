// Small behaviours htmx does not cover. No inline handlers: the CSP forbids them.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
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
