/* "Tick all" on a list (the reconciliation worklist): the header box ticks or unticks every row
   box named in its data-tick, and follows them (ticked when all are, mixed when some are).
   Without this script the header box still works: the server applies the action to every row
   the page listed. A static file: the CSP allows no inline script. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const all of document.querySelectorAll("input.js-tick-all")) {
    const form = all.form;
    if (!form) continue;
    const boxes = () =>
      Array.from(form.querySelectorAll('input[type="checkbox"]')).filter(
        (box) => box.name === all.dataset.tick,
      );
    all.addEventListener("change", () => {
      for (const box of boxes()) box.checked = all.checked;
    });
    form.addEventListener("change", (event) => {
      if (event.target === all || event.target.name !== all.dataset.tick) return;
      const list = boxes();
      const ticked = list.filter((box) => box.checked).length;
      all.checked = ticked === list.length;
      all.indeterminate = ticked > 0 && ticked < list.length;
    });
  }
});
