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

  sendWithProgress(document.getElementById("file-form"));
});

// Submit the filing in the background so the worker sees the upload's progress (photos on a
// slow network take a while) and cannot send it twice: the button is disabled until the
// server answers, and a broken connection re-enables it with the same filing key, so the
// retry files the dispute once (the server answers a repeated key with the first case).
function sendWithProgress(form) {
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return; // a plain submit still works; the filing key still guards against duplicates
  }
  var button = document.getElementById("file-submit");
  var status = document.getElementById("send-status");
  var bar = document.getElementById("send-progress");
  var text = document.getElementById("send-text");
  var label = button.textContent;
  var show = function (percent, message) {
    status.hidden = false;
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    text.textContent = message;
  };
  var ready = function () {
    delete form.dataset.sending;
    button.disabled = false;
    button.textContent = label;
  };
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (form.dataset.sending) {
      return;
    }
    form.dataset.sending = "1";
    button.disabled = true;
    button.textContent = button.dataset.busy;
    show(0, text.dataset.sending);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var percent = Math.round((e.loaded * 100) / e.total);
        show(percent, percent >= 100 ? text.dataset.waiting : text.dataset.sending);
      }
    });
    xhr.addEventListener("load", function () {
      var next = xhr.getResponseHeader("X-Filed-Location");
      if (next) {
        window.location.assign(next);
        return;
      }
      // The form came back with errors (or an error page): show it as the server made it.
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    var broken = function () {
      ready();
      show(0, text.dataset.failed);
      status.classList.add("text-danger");
    };
    xhr.addEventListener("error", broken);
    xhr.addEventListener("abort", broken);
    xhr.addEventListener("timeout", broken);
    lightPhotos(new FormData(form)).then(function (data) {
      xhr.send(data);
    });
  });
}

// Camera photos are 3–5 MB, minutes on a weak signal: scale them down in the browser (longest
// side 1920 px, JPEG, turned upright by their EXIF orientation, which drops the rest of the
// EXIF, location included) before they leave the phone. Small images, PDFs and anything
// the browser cannot decode go as they are.
var PHOTO_SIDE = 1920;
var PHOTO_LIGHT_BYTES = 600 * 1024;

function lightPhotos(data) {
  var files = data.getAll("photos").filter(function (f) { return f && f.size; });
  if (!files.length || !window.createImageBitmap || !window.HTMLCanvasElement) {
    return Promise.resolve(data);
  }
  return Promise.all(files.map(lightPhoto)).then(function (light) {
    data.delete("photos");
    light.forEach(function (item) { data.append("photos", item.blob, item.name); });
    return data;
  });
}

function lightPhoto(file) {
  var same = { blob: file, name: file.name };
  if (!/^image\/(jpeg|png|webp)$/.test(file.type) || file.size <= PHOTO_LIGHT_BYTES) {
    return Promise.resolve(same);
  }
  return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
    var scale = Math.min(1, PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return new Promise(function (resolve) {
      canvas.toBlob(function (blob) {
        if (!blob || blob.size >= file.size) {
          resolve(same);
        } else {
          resolve({ blob: blob, name: file.name.replace(/\.[^.]*$/, "") + ".jpg" });
        }
      }, "image/jpeg", 0.85);
    });
  }).catch(function () { return same; });
}
