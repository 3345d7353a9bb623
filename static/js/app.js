// Small behaviours any page may ask for with a data attribute (the Content-Security-Policy
// allows no inline script or on… handler):
//   data-autosubmit  on a field: submit its form when the value changes;
//   data-print       on a button: print the page;
//   data-back        on a button: go back one page;
//   data-mark-read   on a link to what a message is about: following it marks the message
//                    read (a POST to that URL, sent on its way while the page changes).
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-autosubmit]");
  if (field && field.form) { field.form.requestSubmit(); }
});
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
  if (event.target.closest("[data-back]")) { window.history.back(); }
});
document.addEventListener("click", function (event) {
  var link = event.target.closest("a[data-mark-read]");
  if (!link) { return; }
  var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  headers["HX-Request"] = "true";  // the short answer (the row), not the whole inbox
  fetch(link.dataset.markRead, {
    method: "POST", headers: headers, credentials: "same-origin", keepalive: true,
  }).catch(function () { /* offline: it stays unread */ });
});
