/* The header's unread badge, filled after the page loads (so no page pays a query for it).
   Without JavaScript the Notifications link still works; it only lacks the count. */
(function () {
  "use strict";
  var link = document.querySelector("[data-unread-url]");
  function show(count, label, data) {
    if (!count || !label) {
      return;
    }
    count.textContent = String(data.unread);
    label.textContent = " " + data.label;
    count.hidden = false;
    label.hidden = false;
  }
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
      show(link.querySelector("[data-unread-count]"), link.querySelector("[data-unread-label]"), data);
      /* The phone's "Menu" button repeats the count: the folded menu hides the link's. */
      show(
        document.querySelector("[data-menu-unread-count]"),
        document.querySelector("[data-menu-unread-label]"),
        data
      );
    })
    .catch(function () {
      /* the badge is a convenience: a failed fetch leaves the plain link */
    });
})();
