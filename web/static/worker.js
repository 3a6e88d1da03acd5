// Web Worker hosting the Go recogniser (gen/app.wasm) so drawing on the page never waits for recognition.
// It only moves data: fetching the manifest, the wasm and the model (cached by content hash), and passing
// strokes or pixels to globalThis.digitpad (installed by the Go program). All recognition happens in Go.
'use strict';

importScripts('gen/wasm_exec.js');

const MODEL_CACHE = 'digitpad-models-v1';
let api = null; // globalThis.digitpad once the Go runtime runs
let modelInfo = null;

function post(msg, transfer) { self.postMessage(msg, transfer || []); }

async function fetchOK(url, opts) {
  const r = await fetch(url, opts);
  if (!r.ok) throw new Error(`fetch ${url}: HTTP ${r.status}`);
  return r;
}

async function hex256(buf) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

// graphBytes returns the model graph file with the given sha256 from Cache Storage, fetching and verifying it on
// a miss. (The page gets models as graph files: the ONNX file decoded by onnx-go at build or serve time.)
async function graphBytes(url, sha256) {
  const key = new URL(`model-cache/${sha256}.graph`, self.location.href).href;
  const cache = self.caches ? await caches.open(MODEL_CACHE) : null;
  if (cache && sha256) {
    const hit = await cache.match(key);
    if (hit) return { bytes: await hit.arrayBuffer(), cached: true };
  }
  const bytes = await (await fetchOK(url)).arrayBuffer();
  if (sha256) {
    const got = await hex256(bytes);
    if (got !== sha256) throw new Error(`model ${url}: sha256 ${got} does not match the expected ${sha256}`);
    if (cache) {
      await cache.put(key, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } }));
      // Keep only the active model: older hashes are dead weight on a clerk's tablet.
      for (const req of await cache.keys()) if (req.url !== key && req.url !== ACTIVE_KEY()) await cache.delete(req);
    }
  }
  return { bytes, cached: false };
}

async function startGo(url) {
  const go = new Go();
  const ready = new Promise((resolve) => { self.digitpadReady = resolve; });
  let inst;
  try {
    inst = await WebAssembly.instantiateStreaming(fetchOK(url), go.importObject);
  } catch (e) {
    // A server without application/wasm breaks streaming compilation; fall back to bytes.
    const buf = await (await fetchOK(url)).arrayBuffer();
    inst = await WebAssembly.instantiate(buf, go.importObject);
  }
  go.run(inst.instance); // resolves only when the Go program exits, which it never does
  await ready;
  return self.digitpad;
}

async function loadModel(m, prefetched) {
  const t0 = performance.now();
  const { bytes, cached } = await (prefetched || graphBytes(new URL(m.url, self.location.href).href, m.graph_sha256));
  const t1 = performance.now();
  // The model card configures the recogniser (recognize.Calibration, in Go): the manifest's card at start,
  // the server's card after a swap, so a swapped model runs exactly as it would have at start.
  const out = api.load(new Uint8Array(bytes), { name: m.name || '', card: m.card, format: m.format });
  if (out.error) throw new Error(`${out.error.code}: ${out.error.message}`);
  if (m.sha256 && out.model.sha256 !== m.sha256) {
    throw new Error(`model ${m.url}: graph of model ${out.model.sha256}, expected ${m.sha256}`);
  }
  modelInfo = out.model;
  return { model: out.model, modelFetchMs: t1 - t0, modelLoadMs: out.ms, modelCached: cached };
}

// The model the server last announced (descriptor with its card) is remembered beside its cached graph, so a
// pad that swapped to it and is reloaded offline starts with it, not with a shipped model it no longer has.
const ACTIVE_KEY = () => new URL('model-cache/active.json', self.location.href).href;

async function rememberActive(m) {
  if (!self.caches) return;
  const cache = await caches.open(MODEL_CACHE);
  await cache.put(ACTIVE_KEY(), new Response(JSON.stringify(m), { headers: { 'Content-Type': 'application/json' } }));
}

// adoptedModel returns the remembered server model if its graph is in the cache, else null.
async function adoptedModel() {
  if (!self.caches) return null;
  const cache = await caches.open(MODEL_CACHE);
  const hit = await cache.match(ACTIVE_KEY());
  if (!hit) return null;
  const m = await hit.json().catch(() => null);
  if (!m || !m.graph_sha256 || !(await cache.match(new URL(`model-cache/${m.graph_sha256}.graph`, self.location.href).href))) return null;
  return m;
}

async function init(opts = {}) {
  const t0 = performance.now();
  // The wasm's name is fixed, so its download and compilation start before the manifest arrives.
  const goP = startGo(new URL('gen/app.wasm', self.location.href).href);
  goP.catch(() => {}); // reported through await below
  const manifest = await (await fetchOK('gen/manifest.json', { cache: 'no-cache' })).json();
  const base = new URL('gen/', self.location.href);
  let model = { ...manifest.model, url: new URL(manifest.model.url, base).href };
  // A pad linked to a server starts with the model the server last announced, when it is cached.
  const adopted = opts.adopted ? await adoptedModel() : null;
  if (adopted && adopted.sha256 !== model.sha256) model = adopted;
  // Fetch the model while the wasm compiles.
  const bytesP = graphBytes(model.url, model.graph_sha256);
  bytesP.catch(() => {}); // reported through loadModel below
  api = await goP;
  const t1 = performance.now();
  const info = await loadModel(model, bytesP);
  return { ...info, wasmMs: t1 - t0, initMs: performance.now() - t0 };
}

function recognise(msg) {
  const t0 = performance.now();
  let res;
  if (msg.type === 'strokes') {
    res = api.strokes(msg.points, msg.ends, msg.width, msg.height, msg.format || '');
  } else {
    res = api.image(msg.rgba, msg.width, msg.height, msg.format || '');
  }
  return { type: 'result', id: msg.id, result: res, workerMs: performance.now() - t0 };
}

// warmUp runs one throwaway recognition right after loading: the engine first runs freshly compiled wasm
// unoptimised, so without it the clerk's first code would take several times longer than the next ones.
function warmUp() {
  const pts = new Float32Array([40, 20, 42, 60, 44, 100, 120, 20, 110, 60, 100, 100]);
  api.strokes(pts, new Uint32Array([3, 6]), 200, 120, '');
}

let initP = null;
self.onmessage = async (ev) => {
  const msg = ev.data;
  try {
    switch (msg.type) {
      case 'init':
        initP = initP || init({ adopted: !!msg.adopted });
        post({ type: 'ready', ...(await initP) });
        warmUp();
        break;
      case 'strokes':
      case 'image':
        await initP;
        post(recognise(msg));
        break;
      case 'scratch':
        await initP;
        post({ type: 'scratch', id: msg.id, result: api.scratch(msg.points, msg.ends) });
        break;
      case 'clerk': {
        await initP;
        post({ type: 'clerk', id: msg.id, result: api.clerk(msg.input) });
        break;
      }
      case 'inkPNG':
        await initP;
        post({ type: 'inkPNG', id: msg.id, result: api.inkPNG() });
        break;
      case 'feedback': // the record of a confirmed code, built in Go (protocol.NewFeedback)
        await initP;
        post({ type: 'feedback', id: msg.id, result: api.feedback(msg.points, msg.ends, msg.width, msg.height, msg.confirmation) });
        break;
      case 'model': // a newer model announced by the server: swap without reloading the page
        await initP;
        if (modelInfo && msg.sha256 === modelInfo.sha256) break;
        {
          const m = { name: msg.name, url: msg.url, sha256: msg.sha256, graph_sha256: msg.graph_sha256, card: msg.card };
          const info = await loadModel(m);
          await rememberActive(m);
          post({ type: 'ready', ...info });
        }
        break;
      default:
        post({ type: 'error', id: msg.id, message: `unknown message type ${msg.type}` });
    }
  } catch (e) {
    post({ type: 'error', id: msg.id, stage: msg.type, message: String(e && e.message || e) });
  }
};
