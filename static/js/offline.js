// Working with no signal (a stairwell, a basement, the edge of town):
//
// - registers the service worker (templates/pwa/sw.js), which keeps the filing page and the
//   pages a worker opened for use offline, and tells it to forget them at log-out;
// - keeps what a worker types in a form marked data-draft in IndexedDB as they type, so
//   closing the browser or a dead battery loses nothing; it comes back when the form opens;
// - keeps a filing or a progress note made with no signal (photos included) in IndexedDB,
//   lists it as "waiting to upload" and sends it by itself when the network returns or the
//   app is next opened. Each carries the key it was made with (the filing key, the progress
//   note's client key), so however often it is sent, the server records it once;
// - shows the worker what the server refused (a removed dispute type, say) so they can fix
//   it in the form.
// Items belong to the user who made them: another user signed in on the same phone neither
// sees nor sends them.
(function () {
  "use strict";
  var body = document.body;
  var user = body.dataset.user || "";
  var textNode = document.getElementById("offline-text");
  var T = textNode ? textNode.dataset : {};
  var DB_NAME = "grid-offline";
  var RETRY_MS = 30000;

  registerWorker();
  if (!user || !window.indexedDB) {
    window.offlineQueue = null;
    return;
  }

  // --- IndexedDB: "outbox" (waiting items) and "drafts" (forms as typed) ----------------
  var opened = null;
  function database() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("outbox", { keyPath: "key" });
          request.result.createObjectStore("drafts", { keyPath: "id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }

  function store(name, mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var request = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function items() {
    return store("outbox", "readonly", function (s) { return s.getAll(); }).then(function (all) {
      return all.filter(function (item) { return item.user === user; })
        .sort(function (a, b) { return a.created - b.created; });
    });
  }
  function putItem(item) { return store("outbox", "readwrite", function (s) { return s.put(item); }); }
  function dropItem(key) { return store("outbox", "readwrite", function (s) { return s.delete(key); }); }
  function draftId(form) { return user + ":" + form.dataset.draft; }
  function getDraft(form) { return store("drafts", "readonly", function (s) { return s.get(draftId(form)); }); }
  function dropDraft(form) { return store("drafts", "readwrite", function (s) { return s.delete(draftId(form)); }); }

  // --- A form's content, without its CSRF token (a fresh one is sent with it) -------------
  function snapshot(data) {
    var fields = [];
    var files = [];
    data.forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") {
        return;
      }
      if (value instanceof Blob) {
        if (value.size) {
          files.push({ name: name, file: value, filename: value.name || "photo.jpg" });
        }
      } else {
        fields.push([name, value]);
      }
    });
    return { fields: fields, files: files };
  }

  function rebuild(item) {
    var data = new FormData();
    item.fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    item.files.forEach(function (f) { data.append(f.name, f.file, f.filename); });
    return data;
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // Puts a snapshot back into a form: party rows are added first (filing.js listens), then
  // every field by name, then the photos through a DataTransfer (the only way to fill a
  // file input from script).
  function restore(form, saved) {
    form.dispatchEvent(new CustomEvent("draft:before-restore", { detail: saved }));
    var seen = {};
    saved.fields.forEach(function (pair) {
      var name = pair[0];
      var value = pair[1];
      var fields = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
      fields.forEach(function (field) {
        if (field.type === "checkbox" || field.type === "radio") {
          if (!seen[name]) {
            fields.forEach(function (f) { f.checked = false; });
          }
          if (field.value === value) {
            field.checked = true;
          }
        } else if (field.type !== "file") {
          field.value = value;
        }
      });
      seen[name] = true;
    });
    var byInput = {};
    saved.files.forEach(function (f) { (byInput[f.name] = byInput[f.name] || []).push(f); });
    Object.keys(byInput).forEach(function (name) {
      var input = form.querySelector('input[type=file][name="' + CSS.escape(name) + '"]');
      if (!input || !window.DataTransfer) {
        return;
      }
      var transfer = new DataTransfer();
      byInput[name].forEach(function (f) {
        transfer.items.add(new File([f.file], f.filename, { type: f.file.type }));
      });
      input.files = transfer.files;
    });
    form.querySelectorAll("select, input[type=checkbox]").forEach(function (field) {
      field.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  // --- Drafts ----------------------------------------------------------------------------
  var draftTimers = {};
  function saveDraft(form) {
    clearTimeout(draftTimers[form.dataset.draft]);
    draftTimers[form.dataset.draft] = setTimeout(function () {
      var saved = snapshot(new FormData(form));
      var typed = saved.files.length || saved.fields.some(function (pair) {
        var field = form.querySelector('[name="' + CSS.escape(pair[0]) + '"]');
        return field && field.type !== "hidden" && field.tagName !== "SELECT" && pair[1] !== "" &&
          field.type !== "checkbox";
      });
      if (!typed) {
        dropDraft(form);
        return;
      }
      saved.id = draftId(form);
      saved.saved = Date.now();
      store("drafts", "readwrite", function (s) { return s.put(saved); });
    }, 400);
  }

  function watchDrafts() {
    var onEdit = function (event) {
      var form = event.target.closest && event.target.closest("form[data-draft]");
      if (form && !form.dataset.sending) {
        saveDraft(form);
      }
    };
    document.addEventListener("input", onEdit);
    document.addEventListener("change", onEdit);
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      // A form the server sent back with errors holds the newest input: keep that.
      if (form.querySelector(".invalid-feedback, .alert-danger")) {
        saveDraft(form);
        return;
      }
      getDraft(form).then(function (saved) {
        if (!saved) {
          return;
        }
        restore(form, saved);
        var note = form.querySelector("[data-draft-note]");
        if (note) {
          note.hidden = false;
        }
      });
    });
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-draft-clear]");
      if (!button) {
        return;
      }
      var form = button.closest("form[data-draft]");
      clearTimeout(draftTimers[form.dataset.draft]);
      dropDraft(form).then(function () { window.location.reload(); });
    });
  }

  function forgetDraft(form) {
    if (form && form.dataset.draft) {
      clearTimeout(draftTimers[form.dataset.draft]);
      return dropDraft(form);
    }
    return Promise.resolve();
  }

  // --- The queue -------------------------------------------------------------------------
  // kind: "filing" (answered by X-Filed-Location) or "action" (answered by X-Action-Done).
  function add(options) {
    var saved = snapshot(options.data);
    var item = {
      key: options.key,
      user: user,
      kind: options.kind,
      url: options.url,
      page: options.page || window.location.pathname,
      title: options.title,
      fields: saved.fields,
      files: saved.files,
      created: Date.now(),
      state: "waiting",
      errors: "",
    };
    return putItem(item).then(function () {
      render();
      return item;
    });
  }

  var syncing = false;
  function sync() {
    if (syncing || navigator.onLine === false) {
      return Promise.resolve();
    }
    syncing = true;
    var run = function () {
      return items().then(function (list) {
        var chain = Promise.resolve();
        list.filter(function (item) { return item.state !== "rejected"; }).forEach(function (item) {
          chain = chain.then(function () { return send(item); });
        });
        return chain;
      }).catch(function () { /* no network: the rest waits for the next chance */ });
    };
    // Two open tabs must not send the same item at the same moment (the key would still
    // keep it single, but the second would be refused as a duplicate for nothing).
    var done = navigator.locks
      ? navigator.locks.request("grid-offline-sync", { ifAvailable: true }, function (lock) {
        return lock ? run() : null;
      })
      : run();
    return done.then(function () {
      syncing = false;
      render();
    }, function () {
      syncing = false;
      render();
    });
  }

  function send(item) {
    item.state = "sending";
    var headers = { "X-Requested-With": "XMLHttpRequest", "X-CSRFToken": csrfToken(),
                    "X-Offline-Queue": "1" };  // prettier-ignore
    if (item.kind === "action") {
      headers["HX-Request"] = "true";
    }
    return putItem(item).then(render).then(function () {
      return fetch(item.url, { method: "POST", body: rebuild(item), credentials: "same-origin",
                               headers: headers });  // prettier-ignore
    }).then(function (response) {
      if (response.headers.get("X-Filed-Location") || response.headers.get("X-Action-Done")) {
        var number = response.headers.get("X-Filed-Number") || "";
        return dropItem(item.key).then(function () {
          announce((T.sent || "").replace("{title}", item.title).replace("{number}", number));
        });
      }
      var toLogin = response.redirected && /\/accounts\/login\//.test(response.url);
      if (toLogin || response.status === 403 || response.status === 429 || response.status >= 500) {
        // Not the item's fault: it waits (signed out, the server busy or down).
        item.state = "waiting";
        item.errors = toLogin ? T.login : T.later;
        return putItem(item).then(function () { throw new Error("later"); });
      }
      return response.text().then(function (html) {
        item.state = "rejected";
        item.errors = errorsIn(html) || T.refused;
        return putItem(item);
      });
    }, function (error) {
      item.state = "waiting";
      return putItem(item).then(function () { throw error; });
    });
  }

  function errorsIn(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var texts = [];
    doc.querySelectorAll(".invalid-feedback, .alert-danger").forEach(function (node) {
      var text = node.textContent.replace(/\s+/g, " ").trim();
      var label = node.dataset.errorFor && node.parentElement.querySelector("label");
      if (label) {
        text = label.textContent.replace("*", "").trim() + "：" + text;
      }
      if (text && texts.indexOf(text) < 0) {
        texts.push(text);
      }
    });
    return texts.join("；");
  }

  function announce(message) {
    var box = document.getElementById("offline-note");
    if (box && message) {
      box.textContent = message;
      box.hidden = false;
    }
  }

  // --- What the worker sees --------------------------------------------------------------
  function render() {
    return items().then(function (list) {
      var badge = document.getElementById("outbox-badge");
      if (badge) {
        badge.hidden = list.length === 0;
        badge.querySelector("[data-outbox-count]").textContent = String(list.length);
      }
      var section = document.getElementById("offline-outbox");
      if (!section) {
        return;
      }
      section.hidden = list.length === 0;
      var ul = section.querySelector("[data-outbox-list]");
      ul.textContent = "";
      list.forEach(function (item) { ul.appendChild(row(item)); });
    }).catch(function () { /* private mode without IndexedDB: nothing to show */ });
  }

  function row(item) {
    var li = document.createElement("li");
    li.className = "list-group-item d-flex flex-wrap gap-2 align-items-center";
    li.dataset.outboxItem = item.key;
    var title = document.createElement("span");
    title.className = "fw-semibold me-auto";
    title.textContent = item.title;
    var state = document.createElement("span");
    var states = { waiting: ["text-bg-warning", T.waiting], sending: ["text-bg-info", T.sending],
                   rejected: ["text-bg-danger", T.rejected] };  // prettier-ignore
    state.className = "badge " + states[item.state][0];
    state.textContent = states[item.state][1];
    state.dataset.outboxState = item.state;
    li.appendChild(title);
    li.appendChild(state);
    if (item.files.length) {
      var photos = document.createElement("span");
      photos.className = "small text-muted";
      photos.textContent = (T.photos || "").replace("{n}", item.files.length);
      li.appendChild(photos);
    }
    if (item.errors) {
      var errors = document.createElement("div");
      errors.className = "w-100 small " + (item.state === "rejected" ? "text-danger" : "text-muted");
      errors.textContent = item.errors;
      li.appendChild(errors);
    }
    if (item.state === "rejected") {
      li.appendChild(button(T.fix, "btn-outline-primary", function () { fix(item); }));
    }
    li.appendChild(button(T.remove, "btn-outline-danger", function () {
      if (window.confirm(T.confirmRemove)) {
        dropItem(item.key).then(render);
      }
    }));
    return li;
  }

  function button(label, style, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm " + style;
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  // A refused item goes back into its form, where the server's reasons are shown again
  // when it is submitted; it leaves the queue (the form's draft holds it meanwhile).
  function fix(item) {
    if (window.location.pathname !== item.page) {
      window.location.assign(item.page + "#fix=" + encodeURIComponent(item.key));
      return;
    }
    var form = document.querySelector('form[data-offline-kind][action="' + CSS.escape(item.url) + '"]');
    if (!form) {
      return;
    }
    var details = form.closest("details");
    if (details) {
      details.open = true;
    }
    restore(form, item);
    saveDraft(form);
    announce(item.errors);
    dropItem(item.key).then(render);
    form.scrollIntoView();
  }

  function fixFromAddress() {
    var match = window.location.hash.match(/^#fix=(.+)$/);
    if (!match) {
      return;
    }
    var key = decodeURIComponent(match[1]);
    items().then(function (list) {
      list.filter(function (item) { return item.key === key; }).forEach(fix);
    });
  }

  // Forms marked data-offline-kind (a progress note on the case page) are kept when there
  // is no signal, like filings; filing.js queues the filing form itself (it sends it with
  // upload progress when there is a signal).
  function watchActionForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target.closest("form[data-offline-kind]");
      if (!form || form.dataset.offlineKind !== "action" || navigator.onLine !== false) {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      queueForm(form);
    }, true);
    // The request left while online and the network died under it.
    document.addEventListener("htmx:sendError", function (event) {
      var form = event.detail.elt && event.detail.elt.closest("form[data-offline-kind=action]");
      if (form) {
        queueForm(form);
      }
    });
    document.addEventListener("htmx:beforeSwap", function (event) {
      var xhr = event.detail.xhr;
      var form = event.detail.requestConfig && event.detail.requestConfig.elt;
      if (xhr && xhr.getResponseHeader("X-Action-Done") && form && form.closest) {
        forgetDraft(form.closest("form[data-draft]"));
      }
    });
  }

  function queueForm(form) {
    var data = new FormData(form);
    // The action forms' fields carry the action's prefix ("progress-client_key").
    var keyField = form.querySelector("[name$=client_key]");
    var key = keyField && keyField.value ? keyField.value : newKey();
    return add({ kind: "action", key: key, url: form.getAttribute("action"),
                 title: form.dataset.offlineTitle, data: data })  // prettier-ignore
      .then(function () {
        forgetDraft(form);
        form.reset();
        if (keyField) {
          keyField.value = newKey();
        }
        announce(T.queued);
      });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID().replace(/-/g, "");
    }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  window.offlineQueue = { add: add, sync: sync, render: render, forgetDraft: forgetDraft,
                          newKey: newKey, announce: announce };  // prettier-ignore

  document.addEventListener("DOMContentLoaded", function () {
    watchDrafts();
    watchActionForms();
    render().then(sync).then(fixFromAddress);
  });
  var banner = function () {
    var node = document.querySelector("[data-offline-banner]");
    if (node) {
      node.hidden = navigator.onLine !== false;
    }
  };
  window.addEventListener("online", function () { banner(); sync(); });
  window.addEventListener("offline", banner);
  document.addEventListener("DOMContentLoaded", banner);
  setInterval(function () {
    items().then(function (list) {
      if (list.some(function (item) { return item.state === "waiting"; })) {
        sync();
      }
    });
  }, RETRY_MS);

  // --- The service worker ----------------------------------------------------------------
  function registerWorker() {
    if (!("serviceWorker" in navigator) || !body.dataset.sw) {
      return;
    }
    navigator.serviceWorker.register(body.dataset.sw, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var worker = registration.active;
      if (!worker) {
        return;
      }
      if (!user) {
        worker.postMessage({ type: "forget-pages" });
        return;
      }
      var filing = body.dataset.filingUrl;
      if (filing && window.caches) {
        // Keep the filing page for offline use even if the worker never opens it online.
        caches.match(new URL(filing, window.location.href).href).then(function (hit) {
          if (!hit) {
            worker.postMessage({ type: "keep-pages", urls: [filing] });
          }
        });
      }
    }).catch(function () { /* no worker (private mode, http on a LAN address): online only */ });
  }
})();
