// Service worker: keeps the pad usable with no network. The app shell (page, scripts, wasm, manifest) is
// precached at install and refreshed network-first, so an online clerk always gets the newest files and an
// offline one the last good ones. Models are cached by content hash by the recognition worker, not here.
'use strict';

const SHELL_CACHE = 'digitpad-shell-v1';
const SHELL = [
  './',
  'index.html',
  'config.json',
  'style.css',
  'app.js',
  'outbox.js',
  'sync.js',
  'worker.js',
  'gen/wasm_exec.js',
  'gen/app.wasm',
  'gen/manifest.json',
];

self.addEventListener('install', (ev) => {
  ev.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // no-cache revalidates against the HTTP cache (ETag -> 304), so the wasm the page just loaded is not
    // downloaded a second time.
    await cache.addAll(SHELL.map((u) => new Request(u, { cache: 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('digitpad-shell-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function cacheable(url) {
  return url.origin === self.location.origin && !url.pathname.endsWith('.onnx') && !url.pathname.endsWith('.graph') && !url.pathname.includes('/v1/');
}

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || !cacheable(url)) return;
  ev.respondWith((async () => {
    const cache = await caches.open(SHELL_CACHE);
    try {
      const res = await fetch(req);
      if (res.ok && res.type === 'basic') ev.waitUntil(cache.put(req, res.clone()));
      return res;
    } catch (err) {
      const hit = await cache.match(req, { ignoreSearch: req.mode === 'navigate' });
      if (hit) return hit;
      if (req.mode === 'navigate') {
        const page = await cache.match('index.html');
        if (page) return page;
      }
      throw err;
    }
  })());
});
