/* The header's unread badge, filled after the page loads (so no page pays a query for it).
   Without JavaScript the Notifications link still works; it only lacks the count. */
(function () {
  "use strict";
  var link = document.querySelector("[data-unread-url]");
  if (!link || !window.fetch) {
    return;
  }
  fetch(link.getAttribute("data-unread-url"), {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  })
    .then(function (response) {
      return response.ok ? response.json() : null;
    })
    .then(function (data) {
      if (!data || !data.unread) {
        return;
      }
      var count = link.querySelector("[data-unread-count]");
      var label = link.querySelector("[data-unread-label]");
      count.textContent = String(data.unread);
      label.textContent = " " + data.label;
      count.hidden = false;
      label.hidden = false;
    })
    .catch(function () {
      /* the badge is a convenience: a failed fetch leaves the plain link */
    });
})();
