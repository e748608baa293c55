// The phone app's service worker (docs/phone-app.md), served as /sw.js by mobile-api.
//
// Keeps the app shell (/my, app.js, app.css, the manifest, the icons) so that opening
// the app without a connection shows "My declarations" with every QR kept on the device
// (the QR codes themselves are in the device's storage, written by app.js).
//
// - Pages: network first; only /my is ever written to the cache (it holds no
//   declaration, no edit token). Any page that cannot be fetched shows the kept /my.
//   Every other page (the wizard's steps, the result page with its edit token) goes to
//   the network only and is never stored.
// - The shell's files: from the cache, refreshed from the network in the background.
// - The API (/v1/...) and everything else: never touched, never cached.
// - The cache's name carries the shell's version (set by the server from the files'
//   hash): a new version fills a new cache and deletes the old ones.
"use strict";

var VERSION = "__SHELL_VERSION__";
var CACHE = "egate-shell-" + VERSION;
var SHELL = [
  "/my",
  "/app.js",
  "/app.css",
  "/manifest.webmanifest",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/maskable-512.png"
];
var OFFLINE_PAGE = "/my";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) {
        return cache.addAll(SHELL.map(function (path) {
          return new Request(path, { cache: "reload", credentials: "same-origin" });
        }));
      })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (keys) {
        return Promise.all(keys.filter(function (k) {
          return k.indexOf("egate-shell-") === 0 && k !== CACHE;
        }).map(function (k) { return caches.delete(k); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

function cacheable(response) {
  var cc = response.headers.get("Cache-Control") || "";
  return response.ok && response.type === "basic" && cc.indexOf("no-store") < 0;
}

function page(event, url) {
  return fetch(event.request).then(function (response) {
    if (url.pathname === OFFLINE_PAGE && cacheable(response)) {
      var copy = response.clone();
      event.waitUntil(caches.open(CACHE).then(function (c) { return c.put(OFFLINE_PAGE, copy); }));
    }
    return response;
  }, function () {
    return caches.open(CACHE)
      .then(function (c) { return c.match(OFFLINE_PAGE); })
      .then(function (kept) { return kept || Response.error(); });
  });
}

function shellFile(event, url) {
  return caches.open(CACHE).then(function (c) {
    return c.match(url.pathname).then(function (kept) {
      var fresh = fetch(event.request).then(function (response) {
        if (cacheable(response)) {
          var copy = response.clone();
          return c.put(url.pathname, copy).then(function () { return response; });
        }
        return response;
      });
      if (kept) {
        event.waitUntil(fresh.catch(function () { return null; }));
        return kept;
      }
      return fresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/v1/") === 0) return;
  if (request.mode === "navigate") {
    event.respondWith(page(event, url));
    return;
  }
  if (SHELL.indexOf(url.pathname) >= 0 && url.pathname !== OFFLINE_PAGE) {
    event.respondWith(shellFile(event, url));
  }
});
