// The template editor's field chips: a click inserts the field where the cursor is, as its name
// in square brackets ("[your major]") in plain words, or as the source in advanced form. Without
// this script the chips stay hidden and a field is typed in square brackets by hand.
(function () {
  "use strict";
  let lastField = null; // the subject or the message, whichever was edited last

  function reveal(root) {
    root.querySelectorAll(".field-chips[hidden]").forEach(function (chips) {
      chips.hidden = false;
    });
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.closest("#template-text") && event.target.matches("input[type=text], textarea")) {
      lastField = event.target;
    }
  });

  document.addEventListener("click", function (event) {
    const chip = event.target.closest(".chip-field");
    if (!chip) return;
    const editor = chip.closest("#template-text");
    if (!editor) return;
    const target = lastField && editor.contains(lastField) ? lastField : editor.querySelector("textarea");
    const text = editor.dataset.format === "plain" ? chip.dataset.plain : chip.dataset.source;
    const start = target.selectionStart ?? target.value.length;
    const end = target.selectionEnd ?? start;
    target.focus();
    target.setRangeText(text, start, end, "end");
    target.dispatchEvent(new Event("input", { bubbles: true }));
  });

  reveal(document);
  document.addEventListener("htmx:load", function (event) {
    reveal(event.detail.elt);
  });
})();
