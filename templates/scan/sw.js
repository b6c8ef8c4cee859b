// KT1 scan page service worker (version {{ version }}): keeps the page and its assets so
// that a reload without network still opens the page and its queued scans.
// The API is never cached: scans go to the server or to the page's IndexedDB queue.
"use strict";

var CACHE = "kt1-scan-{{ version }}";
var URLS = {{ urls | tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(URLS);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("kt1-scan-") === 0 && n !== CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

// Network first (a clerk always gets the newest page when the server answers), the cache
// when it does not. Only the page and its own assets; never /api/.
self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var mine = url.pathname === "{{ url_for('scan.page') }}" || URLS.indexOf(url.pathname + url.search) >= 0;
  if (!mine) return;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, {ignoreSearch: url.pathname === "{{ url_for('scan.page') }}"})
      .then(function (hit) { return hit || Response.error(); });
  }));
});
