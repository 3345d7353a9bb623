// The service worker of the installable app (served from /sw.js by grid_governance/pwa.py).
// Version {{ version }}.
//
// - Static files: from the cache first (their production names carry a content hash).
// - Pages a worker may need with no signal (the filing page, case pages they opened, the
//   home page): from the network, kept in a cache as they arrive; with no signal from that
//   cache (the filing page also when the network takes more than a few seconds).
// - Nothing is posted here: filings and progress notes made offline wait in IndexedDB
//   (static/js/offline.js) and are sent from the page, each with its own key.
// The cached pages are the worker's own: the page tells us to drop them at log-out.
"use strict";
const VERSION = "{{ version }}";
const STATIC_CACHE = "static-" + VERSION;
const PAGE_CACHE = "pages-v1";
const ASSETS = {{ assets_json|safe }};
const STATIC_PREFIX = {{ static_prefix_json|safe }};
const FILING_URL = {{ filing_url_json|safe }};
const KEEP_PAGES = 40;
const SLOW_NETWORK_MS = 4000;
const PAGE_PATTERNS = [/^\/$/, /^\/cases\/new\/$/, /^\/cases\/\d+\/$/];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then((cache) => cache.addAll(ASSETS))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n.startsWith("static-") && n !== STATIC_CACHE).map((n) => caches.delete(n))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "forget-pages") {
    event.waitUntil(caches.delete(PAGE_CACHE));
  } else if (message.type === "keep-pages") {
    // The page asks us to keep what the worker will need offline (the filing page), even
    // if they never open it while they have a signal.
    event.waitUntil(Promise.all((message.urls || []).map((url) => refresh(new Request(url)))));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(fromCacheFirst(request));
  } else if (request.mode === "navigate" && PAGE_PATTERNS.some((p) => p.test(url.pathname))) {
    event.respondWith(fromNetworkFirst(request, url));
  } else if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => offlinePage(url)));
  }
});

function fromCacheFirst(request) {
  return caches.open(STATIC_CACHE).then((cache) =>
    cache.match(request).then((hit) => hit || fetch(request).then((response) => {
      if (response.ok) {
        cache.put(request, response.clone());
      }
      return response;
    }))
  );
}

// Fetches a page and keeps a copy; a redirect (to the login page) or an error is not kept.
function refresh(request) {
  return fetch(request, { credentials: "same-origin" }).then((response) => {
    if (response.ok && !response.redirected && response.type === "basic") {
      const copy = response.clone();
      caches.open(PAGE_CACHE)
        .then((cache) => cache.put(pageKey(request.url), copy).then(() => trim(cache)));
    }
    return response;
  });
}

// Case pages change under other people's hands: they come from the cache only when the
// network fails. The filing form hardly changes, so a slow network does not hold it up.
function fromNetworkFirst(request, url) {
  const network = refresh(request);
  const cached = () => caches.open(PAGE_CACHE).then((cache) => cache.match(pageKey(url.href)));
  const fallback = () => cached().then((hit) => hit || offlinePage(url));
  if (url.pathname !== FILING_URL) {
    return network.catch(fallback);
  }
  const slow = new Promise((resolve) => setTimeout(resolve, SLOW_NETWORK_MS));
  return Promise.race([network, slow.then(() => cached().then((hit) => hit || network))])
    .catch(fallback);
}

// "?source=home-screen" and other query strings open the same saved page.
function pageKey(href) {
  const url = new URL(href);
  return url.origin + url.pathname;
}

function trim(cache) {
  return cache.keys().then((keys) => {
    const extra = keys.length - KEEP_PAGES;
    return Promise.all(keys.slice(0, Math.max(0, extra)).map((key) => cache.delete(key)));
  });
}

function offlinePage(url) {
  return caches.open(PAGE_CACHE).then((cache) => cache.match(pageKey(new URL(FILING_URL, url).href)))
    .then((filing) => filing || new Response(
      "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width,initial-scale=1'>" +
      "<title>" + {{ offline_title_json|safe }} + "</title><body style='font-family:sans-serif;padding:1.5rem'>" +
      "<h1 style='font-size:1.3rem'>" + {{ offline_title_json|safe }} + "</h1><p>" + {{ offline_text_json|safe }} +
      "</p><p><a href='" + FILING_URL + "'>" + FILING_URL + "</a></p>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
    ));
}
