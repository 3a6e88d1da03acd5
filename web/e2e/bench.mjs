// Speed of the web pad in headless Chromium (issue 4 targets: load to first recognition <= 1 s, a 5-digit
// code <= 20 ms, wasm + model <= 1.5 MB gzip). Prints a small report; asserts nothing.
//   make web && node web/e2e/bench.mjs [runs=30]
import { startServer, launch, openPad, draw, paths } from './lib.mjs';

const runs = Number(process.argv[2] || 30);
const code = '80331';
paths([code]);

function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, min ${s[0].toFixed(1)} ms (n=${s.length})`;
}

async function gzipSize(url) {
  const r = await fetch(url, { headers: { 'Accept-Encoding': 'gzip' } });
  const body = await r.arrayBuffer(); // node's fetch decodes; Content-Length is the wire size
  return Number(r.headers.get('content-length')) || body.byteLength;
}

const server = await startServer();
try {
  const sizes = {};
  for (const f of ['gen/app.wasm', 'gen/model.graph', 'gen/wasm_exec.js', 'app.js', 'worker.js', 'index.html']) {
    sizes[f] = await gzipSize(new URL(f, server.url));
  }
  console.log('download (gzip, bytes):', JSON.stringify(sizes));
  console.log(`  wasm + model: ${((sizes['gen/app.wasm'] + sizes['gen/model.graph']) / 1e6).toFixed(2)} MB (target <= 1.5 MB)`);

  const b = await launch();
  try {
    // Cold: fresh profile, nothing cached. Warm: a reload with the service worker and the model cache filled.
    for (const kind of ['cold', 'warm']) {
      if (kind === 'cold') await openPad(b.page, server.url, { format: '5' });
      else {
        await b.page.waitForFunction(() => document.body.dataset.offline === '1', null, { timeout: 20000 });
        await b.page.reload();
        await b.page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 20000 });
      }
      const s = await b.page.evaluate(() => ({ ...window.digitpadStats, nav: performance.getEntriesByType('navigation')[0] }));
      await draw(b.page, code);
      const first = await b.page.evaluate(() => window.digitpadStats.lastRoundTripMs);
      console.log(`${kind} load: navigation -> model ready ${(s.readyMs + s.start).toFixed(0)} ms ` +
        `(page script starts at ${s.start.toFixed(0)} ms; worker init ${s.load.initMs.toFixed(0)} ms: wasm fetch+compile+Go init ${s.load.wasmMs.toFixed(0)} ms, model load ${s.load.modelLoadMs.toFixed(0)} ms, ` +
        `model from cache ${s.load.modelCached}); + first recognition ${first.toFixed(1)} ms ` +
        `=> load to first recognition ${(s.readyMs + s.start + first).toFixed(0)} ms (target <= 1000 ms)`);
    }
    const goMs = [], workerMs = [], roundTrip = [];
    for (let i = 0; i < runs; i++) {
      const r = await b.page.evaluate(async () => {
        await window.digitpadRecognizeNow();
        const s = window.digitpadStats;
        return { go: s.lastGoMs, worker: s.lastWorkerMs, rt: s.lastRoundTripMs, code: document.querySelector('[data-testid=code]').textContent };
      });
      if (r.code !== code) throw new Error(`recognised ${r.code}, want ${code}`);
      goMs.push(r.go); workerMs.push(r.worker); roundTrip.push(r.rt);
    }
    console.log(`5-digit code "${code}" (target <= 20 ms):`);
    console.log(`  inside Go (strokes -> mask -> digits -> model -> result): ${summary(goMs)}`);
    console.log(`  inside the worker (incl. JS<->Go conversion):            ${summary(workerMs)}`);
    console.log(`  page round trip (postMessage both ways):                 ${summary(roundTrip)}`);
  } finally {
    await b.close();
  }
} finally {
  await server.stop();
}
