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
  // A 4xx is an answer the page shows (htmx is told it is no error), not a save.
  if (event.detail.successful && event.detail.xhr.status < 400) {
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

// The board: a card moves when it is dropped on another column, or when a stage is chosen in its
// Move menu (an explicit choice: nothing moves while the menu is browsed). Every move can be undone.
(function () {
  let dragged = null;
  let pending = null;  // the move in flight: {id, name, from, to, undo}
  let last = null;     // the last move made, for Undo

  function column(element) { return element.closest(".board-column[data-stage]"); }
  function label(stage) {
    const heading = document.querySelector("#col-" + stage + " .stage");
    return heading ? heading.textContent : stage;
  }
  function move(card, to, undo) {
    const from = column(card).dataset.stage;
    if (to === from) return;
    pending = { id: card.dataset.contact, name: card.dataset.name, from: from, to: to, undo: undo };
    htmx.ajax("PATCH", "/api/v1/contacts/" + pending.id,
      { source: card, target: "#board", swap: "outerHTML", values: { stage: to } });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const button = event.detail.elt.closest && event.detail.elt.closest(".move-to");
    if (!button) return;
    const card = button.closest("[data-contact]");
    pending = { id: card.dataset.contact, name: card.dataset.name, from: column(card).dataset.stage,
                to: button.dataset.stage, undo: false };
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (pending && (!event.detail.successful || event.detail.xhr.status >= 400)) pending = null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    const status = document.getElementById("board-status");
    if (!pending || !status) return;
    const done = pending;
    pending = null;
    last = done.undo ? null : done;
    const text = document.createElement("span");
    text.textContent = (done.undo ? "Moved " + done.name + " back to " : "Moved " + done.name + " to ")
      + label(done.to) + ".";
    const parts = [text];
    if (!done.undo) {
      const undo = document.createElement("button");
      undo.type = "button";
      undo.className = "button button-small board-undo";
      undo.textContent = "Undo";
      parts.push(undo);
    }
    status.replaceChildren.apply(status, parts);
    const summary = document.getElementById("move-" + done.id);
    if (summary) summary.focus();
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".board-undo") || !last) return;
    const card = document.querySelector('#board [data-contact="' + last.id + '"]');
    if (card) move(card, last.from, true);
  });
  document.addEventListener("keydown", function (event) {
    const menu = event.target.closest && event.target.closest(".move-menu[open]");
    if (event.key !== "Escape" || !menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  document.addEventListener("dragstart", function (event) {
    const card = event.target.closest && event.target.closest(".board-card[data-contact]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.name);
    card.classList.add("dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (event) {
    const target = dragged && event.target.closest && column(event.target);
    if (!target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".drop-target").forEach(function (c) {
      if (c !== target) c.classList.remove("drop-target");
    });
    if (target !== column(dragged)) target.classList.add("drop-target");
  });
  document.addEventListener("drop", function (event) {
    const target = dragged && event.target.closest && column(event.target);
    if (!target) return;
    event.preventDefault();
    move(dragged, target.dataset.stage, false);
  });
})();

// A contact's sections: each save is sent with the version the page last saw (every save brings
// the new one in the header), so two sections edited one after the other do not conflict.
document.addEventListener("htmx:configRequest", function (event) {
  const form = event.detail.elt.closest && event.detail.elt.closest(".section-form");
  const header = document.getElementById("contact-header");
  if (form && header && header.dataset.etag) event.detail.headers["If-Match"] = header.dataset.etag;
});
// Opening a section's form puts the cursor in it; saving or cancelling returns to its Edit button.
document.addEventListener("htmx:afterSettle", function (event) {
  const section = event.target;
  if (!section.matches || !section.matches(".contact-section")) return;
  const field = section.querySelector("[aria-invalid=true]") || section.querySelector("form input:not([type=hidden]), form select, form textarea");
  const edit = section.querySelector(".section-head button");
  if (field) field.focus();
  else if (edit) edit.focus();
});

// The phone's Menu button opens and closes the navigation.
document.addEventListener("click", function (event) {
  const toggle = event.target.closest(".nav-toggle");
  if (!toggle) return;
  const menu = document.getElementById(toggle.getAttribute("aria-controls"));
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  menu.classList.toggle("nav-open", open);
});
