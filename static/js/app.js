// Small behaviours any page may ask for with a data attribute (the Content-Security-Policy
// allows no inline script or on… handler):
//   data-autosubmit  on a field: submit its form when the value changes;
//   data-print       on a button: print the page;
//   data-back        on a button: go back one page;
//   data-mark-read   on a link to what a message is about: following it marks the message
//                    read (a POST to that URL, sent on its way while the page changes);
//   data-area-picker around an area select, a search box and its htmx suggestions: a click
//                    on a suggestion ([data-area-id]) selects that area, adding its option
//                    (the select holds only a few; a city has 137,000 areas).
window.chooseArea = function (select, id, label) {
  var option = select.querySelector('option[value="' + id + '"]');
  if (!option) {
    option = new Option(label, id);
    select.add(option);
  }
  select.value = id;
  select.dispatchEvent(new Event("change", { bubbles: true }));
};
document.addEventListener("click", function (event) {
  var pick = event.target.closest("[data-area-id]");
  var picker = pick && pick.closest("[data-area-picker]");
  if (!picker) { return; }
  window.chooseArea(picker.querySelector("select"), pick.dataset.areaId, pick.dataset.areaLabel);
  pick.parentElement.innerHTML = "";
  var search = picker.querySelector("input[type=search]");
  if (search) { search.value = ""; }
});
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
