// The agreement form: "add an obligation" copies the formset's empty row (the <template>)
// with the next index and raises the management form's TOTAL_FORMS.
(function () {
  "use strict";
  var button = document.querySelector("[data-add-obligation]");
  if (!button) return;
  var list = document.getElementById("obligations");
  var template = document.getElementById("obligation-template");
  var total = document.querySelector("input[name=ob-TOTAL_FORMS]");
  button.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var first = list.lastElementChild.querySelector("select, input");
    if (first) first.focus();
  });
})();
