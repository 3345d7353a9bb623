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
  var total = document.getElementById("id_parties-TOTAL_FORMS");
  var addParty = function () {
    var html = document.getElementById("party-template").innerHTML.replace(/__prefix__/g, total.value);
    document.getElementById("parties").insertAdjacentHTML("beforeend", html);
    total.value = parseInt(total.value, 10) + 1;
  };
  if (add) {
    add.addEventListener("click", addParty);
  }
  var form = document.getElementById("file-form");
  if (form && total) {
    // A draft or a refused offline filing with more parties than the page shows: add rows
    // before offline.js fills them in.
    form.addEventListener("draft:before-restore", function (event) {
      var rows = 0;
      event.detail.fields.forEach(function (pair) {
        var match = pair[0].match(/^parties-(\d+)-/);
        if (match) {
          rows = Math.max(rows, parseInt(match[1], 10) + 1);
        }
      });
      while (parseInt(total.value, 10) < rows) {
        addParty();
      }
    });
  }

  sendWithProgress(document.getElementById("file-form"));
  useLocation(document.getElementById("use-location"));
});

// "Use my current location": only when the worker taps it (the browser asks permission),
// it records where they stand on the case and picks the nearest grid they may file in.
function useLocation(button) {
  if (!button) {
    return;
  }
  var text = document.getElementById("location-text");
  if (!navigator.geolocation) {
    button.hidden = true;
    return;
  }
  button.addEventListener("click", function () {
    text.textContent = button.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = position.coords.latitude.toFixed(6);
      var lon = position.coords.longitude.toFixed(6);
      document.getElementById("id_latitude").value = lat;
      document.getElementById("id_longitude").value = lon;
      var found = button.dataset.found.replace("{m}", Math.round(position.coords.accuracy));
      text.textContent = found;
      fetch(button.dataset.nearest + "?lat=" + lat + "&lon=" + lon, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { area: null }; })
        .then(function (body) {
          var select = document.getElementById("id_area");
          if (!body.area || !select) {
            return;
          }
          window.chooseArea(select, String(body.area.id), body.area.name);
          text.textContent = found + " " + button.dataset.suggested.replace("{name}", body.area.name);
        })
        .catch(function () { /* the position is kept; the area stays as chosen */ });
    }, function () {
      text.textContent = button.dataset.denied;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
}

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
  // No signal: the filing (photos made light first) waits on the phone and the form is
  // ready for the next one; offline.js sends it when the network is back.
  var keepForLater = function () {
    var queue = window.offlineQueue;
    return lightPhotos(new FormData(form)).then(function (data) {
      return queue.add({ kind: "filing", key: data.get("filing_key"), url: form.getAttribute("action"),
                         title: data.get("cause") || text.dataset.untitled, data: data });  // prettier-ignore
    }).then(function () {
      return queue.forgetDraft(form);
    }).then(function () {
      form.reset();
      ["id_latitude", "id_longitude"].forEach(function (id) {
        var field = document.getElementById(id);
        if (field) {
          field.value = "";
        }
      });
      form.querySelector("[name=filing_key]").value = queue.newKey();
      status.hidden = true;
      ready();
      queue.announce(text.dataset.queued);
      window.scrollTo(0, 0);
    });
  };
  var offline = function () { return navigator.onLine === false && window.offlineQueue; };
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (form.dataset.sending) {
      return;
    }
    form.dataset.sending = "1";
    button.disabled = true;
    button.textContent = button.dataset.busy;
    if (offline()) {
      keepForLater().catch(ready);
      return;
    }
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
        var go = function () { window.location.assign(next); };
        (window.offlineQueue ? window.offlineQueue.forgetDraft(form) : Promise.resolve()).then(go, go);
        return;
      }
      // The form came back with errors (or an error page): show it as the server made it.
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    var broken = function () {
      if (offline()) {
        keepForLater().catch(ready);
        return;
      }
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
