/* A table or card too wide for the screen scrolls sideways (static/css/app.css). A keyboard user
   can only scroll what can take the focus, so each region of the page that overflows gets
   tabindex="0" (and loses it again once it fits, on a wider screen): WCAG 2.1.1, axe's
   "scrollable-region-focusable". Without JavaScript the page still works with a mouse or touch. */
(function () {
  "use strict";

  function scrolls(el) {
    var overflow = window.getComputedStyle(el).overflowX;
    return (overflow === "auto" || overflow === "scroll") && el.scrollWidth > el.clientWidth + 1;
  }

  function mark() {
    document.querySelectorAll("main *").forEach(function (el) {
      if (scrolls(el)) {
        if (!el.hasAttribute("tabindex")) {
          el.setAttribute("tabindex", "0");
          el.setAttribute("data-scroller", "");
        }
      } else if (el.hasAttribute("data-scroller")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroller");
      }
    });
  }

  /* Once per frame while the window is resized (the next paint shows the right state), and
     again once everything has loaded (fonts and images change widths). */
  var pending = false;
  window.addEventListener("resize", function () {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        mark();
      });
    }
  });
  window.addEventListener("load", mark);
  mark();
})();
