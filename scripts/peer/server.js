// The peer of issue 16: what a user might write instead of digitpad to read one handwritten digit over HTTP. A
// Node.js cluster (PEER_WORKERS workers, default 2) each holding an onnxruntime-node session of the same model
// (assets/model.onnx), classic one-digit MNIST preprocessing, and nothing else: no segmentation, no batching,
// no admission control, no log. `make load-peer` measures digitpad against it.
//
//   node scripts/peer/server.js [--port 18201] [--model assets/model.onnx]
//
// POST /v1/predict, body image/png -> 200 {"digit": 8, "confidence": 0.97}; 400 for a body that is not a PNG or
// holds no ink. GET /healthz -> 200. Listens on 127.0.0.1 only; prints "peer ready" once every worker listens.
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const path = require('node:path');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const PORT = Number(arg('--port', process.env.PORT || 18201));
const MODEL = arg('--model', path.join(__dirname, '..', '..', 'assets', 'model.onnx'));
const WORKERS = Number(process.env.PEER_WORKERS || 2);
// One intra-op thread per worker: two workers on two cores. onnxruntime's default (one thread per core in each
// worker) only makes the workers fight over the cores for a model this small: 1.6-2.2x the CPU per answer on the
// 76x64 grey digit (scripts/load -mode closed -pid, alternating runs).
const ORT_THREADS = Number(process.env.PEER_ORT_THREADS || 1);
const MAX_BODY = 4 << 20;

if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('listening', () => {
    if (++listening === WORKERS) console.log(`peer ready on 127.0.0.1:${PORT} (${WORKERS} workers)`);
  });
  cluster.on('exit', (w, code, signal) => {
    console.error(`peer worker ${w.process.pid} exited (${signal || code})`);
    process.exit(1);
  });
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
      process.exit(0);
    });
  }
} else {
  worker().catch((err) => {
    console.error('peer worker:', err);
    process.exit(1);
  });
}

async function worker() {
  const ort = require('onnxruntime-node');
  const { PNG } = require('pngjs');
  const { toMNIST } = require('./mnist.js');
  const session = await ort.InferenceSession.create(MODEL, {
    executionProviders: ['cpu'], intraOpNumThreads: ORT_THREADS, interOpNumThreads: 1,
  });
  const input = session.inputNames[0];
  const output = session.outputNames[0];

  async function predict(body) {
    const png = PNG.sync.read(body); // RGBA, 8 bits a channel, whatever the PNG's colour type
    const x = toMNIST(png.data, png.width, png.height);
    if (!x) return null;
    const res = await session.run({ [input]: new ort.Tensor('float32', x, [1, 1, 28, 28]) });
    const p = res[output].data; // the model ends in a softmax
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
    return { digit: best, confidence: p[best] };
  }

  function reply(res, code, obj) {
    const b = JSON.stringify(obj);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
    res.end(b);
  }

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/healthz' || req.url === '/readyz')) return reply(res, 200, { ok: true });
    if (req.method !== 'POST' || req.url !== '/v1/predict') return reply(res, 404, { error: 'not found' });
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reply(res, 413, { error: 'too large' });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      const body = Buffer.concat(chunks, size);
      predict(body).then(
        (r) => (r ? reply(res, 200, r) : reply(res, 400, { error: 'no ink' })),
        (err) => reply(res, 400, { error: String(err.message || err) }),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(PORT, '127.0.0.1');
}
