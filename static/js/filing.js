// The filing form: "how it was resolved" only matters when the dispute was resolved on the
// spot; "add a party" clones Django's empty form and bumps TOTAL_FORMS.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("id_resolved_on_spot");
  var wrap = document.getElementById("outcome-note-wrap");
  if (box && wrap) {
    var sync = function () { wrap.hidden = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  }
  var add = document.getElementById("add-party");
  if (add) {
    add.addEventListener("click", function () {
      var total = document.getElementById("id_parties-TOTAL_FORMS");
      var html = document.getElementById("party-template").innerHTML.replace(/__prefix__/g, total.value);
      document.getElementById("parties").insertAdjacentHTML("beforeend", html);
      total.value = parseInt(total.value, 10) + 1;
    });
  }
});
