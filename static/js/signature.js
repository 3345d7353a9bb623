// The signature box on the signing page: a finger (or mouse) draws on a canvas; on submit
// the drawing goes into the hidden `image` field as a PNG data URL. An empty box is not
// sent (the server refuses it too).
(function () {
  "use strict";
  var canvas = document.querySelector("[data-signature-pad]");
  if (!canvas) return;
  var form = canvas.closest("form");
  var field = form.querySelector("input[name=image]");
  var context = canvas.getContext("2d");
  var drawing = false;
  var inked = false;

  function fit() {
    // Drawn at the screen's pixel density so the stroke is sharp on a phone.
    var ratio = window.devicePixelRatio || 1;
    var box = canvas.getBoundingClientRect();
    canvas.width = Math.round(box.width * ratio);
    canvas.height = Math.round(box.height * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#000";
    inked = false;
  }

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    var p = point(event);
    context.beginPath();
    context.moveTo(p.x, p.y);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) return;
    var p = point(event);
    context.lineTo(p.x, p.y);
    context.stroke();
    inked = true;
    event.preventDefault();
  });
  function stop() { drawing = false; }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);

  form.querySelector("[data-signature-clear]").addEventListener("click", function () {
    context.clearRect(0, 0, canvas.width, canvas.height);
    inked = false;
  });

  form.addEventListener("submit", function (event) {
    if (!inked) {
      event.preventDefault();
      canvas.classList.add("border-danger");
      return;
    }
    field.value = canvas.toDataURL("image/png");
  });

  fit();
  window.addEventListener("resize", function () { if (!inked) fit(); });
})();
