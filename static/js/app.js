// Small behaviours any page may ask for with a data attribute (the Content-Security-Policy
// allows no inline script or on… handler):
//   data-autosubmit  on a field: submit its form when the value changes;
//   data-print       on a button: print the page;
//   data-back        on a button: go back one page.
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-autosubmit]");
  if (field && field.form) { field.form.requestSubmit(); }
});
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
  if (event.target.closest("[data-back]")) { window.history.back(); }
});
