/* Tepat presence service worker (scope /app/).
 *
 * Answers only for the app shell: pages under the scope (network first, the cached copy when
 * there is no signal or the server fails) and the app's own static files (cached copy first,
 * refreshed in the background). Everything else, the JSON API above all, is not touched: it
 * goes to the network and is never cached.
 *
 * Background Sync (Chrome on Android): on `sync` it sends the IndexedDB queue with the same
 * code as the page (queue.js, whose URL arrives in the registration's ?queue= parameter).
 */
'use strict';

var CACHE = 'tepat-app-v1';
var SCOPE = self.registration.scope;  // e.g. https://tepat.example/app/
var QUEUE_JS = (function () {
  var raw = new URL(self.location.href).searchParams.get('queue');
  if (!raw) return null;
  var url = new URL(raw, self.location.href);
  return url.origin === self.location.origin ? url.href : null;
})();
// The app's static folder (…/presence/), taken from queue.js's address, hashed names included.
var STATIC_DIR = QUEUE_JS ? QUEUE_JS.slice(0, QUEUE_JS.lastIndexOf('/') + 1) : null;

if (QUEUE_JS) {
  try { importScripts(QUEUE_JS); } catch (e) { /* the shell still works without sync */ }
}

function inShell(url) {
  return url.origin === self.location.origin &&
    (url.href.indexOf(SCOPE) === 0 || (STATIC_DIR !== null && url.href.indexOf(STATIC_DIR) === 0));
}

function fromCache(request) {
  return caches.open(CACHE).then(function (cache) { return cache.match(request, { ignoreSearch: true }); });
}

function store(request, response) {
  if (!response || response.status !== 200 || response.type !== 'basic') return Promise.resolve();
  var copy = response.clone();
  return caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
}

function precache(urls) {
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (u) {
      var url = new URL(u, SCOPE);
      if (!inShell(url)) return null;
      return cache.match(url.href).then(function (have) {
        if (have) return null;  // kept fresh by the fetch handler
        return fetch(url.href, { cache: 'no-cache', credentials: 'same-origin' })
          .then(function (res) { return res.ok ? cache.put(url.href, res) : null; });
      }).catch(function () { return null; });
    }));
  });
}

self.addEventListener('install', function (event) {
  var urls = [SCOPE, SCOPE + 'manifest.webmanifest'];
  if (QUEUE_JS) urls.push(QUEUE_JS);
  event.waitUntil(precache(urls).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf('tepat-app-') === 0 && n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (data.type === 'precache' && Array.isArray(data.urls)) {
    var source = event.source;
    event.waitUntil(precache(data.urls.slice(0, 50)).then(function () {
      if (source) source.postMessage({ type: 'precached' });
    }));
  }
});

// Pages: network first, so a new release shows at once; the cached copy after 4 s without
// an answer ("lie-fi" on a weak signal), with no connection, or when the server errs.
function page(event) {
  var request = event.request;
  var network = fetch(request).then(function (res) {
    if (res.ok) {
      var key = new URL(request.url);
      key.search = '';
      event.waitUntil(store(key.href, res.clone()));
    }
    return res;
  });
  var timeout = new Promise(function (resolve) { setTimeout(resolve, 4000, null); });
  return Promise.race([network.catch(function () { return null; }), timeout]).then(function (res) {
    // A redirect (navigations are fetched with redirect: manual) goes back to the browser.
    if (res && (res.ok || res.type === 'opaqueredirect')) return res;
    return fromCache(request).then(function (cached) {
      if (cached) return cached;
      return fromCache(SCOPE).then(function (shell) {
        return shell || res || network;
      });
    });
  });
}

// Static files: the cached copy at once, refreshed in the background for the next start.
function asset(event) {
  var request = event.request;
  var network = fetch(request).then(function (res) {
    return store(request, res.clone()).then(function () { return res; });
  });
  event.waitUntil(network.catch(function () { return null; }));
  return fromCache(request).then(function (cached) { return cached || network; });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (!inShell(url)) return;  // the API and everything else: network only, never cached
  if (request.mode === 'navigate') event.respondWith(page(event));
  else event.respondWith(asset(event));
});

self.addEventListener('sync', function (event) {
  if (event.tag !== 'tepat-flush' || !self.TepatQueue) return;
  var Q = self.TepatQueue;
  event.waitUntil(Q.kvGet('api_base').then(function (apiBase) {
    if (!apiBase) return null;
    return Q.flush(apiBase);
  }).then(function (result) {
    // Rejecting asks the browser to try again later; a needed login cannot be fixed here.
    if (result && result.retry) throw new Error('queue not fully sent');
  }));
});
