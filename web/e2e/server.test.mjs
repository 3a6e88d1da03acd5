// Browser tests of the pad against the real digitpad server (web/e2e/padserver: package server, websocket /v1/ws,
// SQLite): recognition over the websocket in server mode, and outbox sync with retry while the server is away.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launch, openPad, draw, codeText, outbox, paths, ROOT } from './lib.mjs';

const dbDir = mkdtempSync(path.join(tmpdir(), 'digitpad-e2e-db-'));
const dsn = `sqlite:${path.join(dbDir, 'pad.db')}`;
const TOKEN = 'e2e-admin-token';
const serverArgs = ['-db', dsn, '-token', TOKEN];
let server;
before(async () => {
  server = await startServer({ withServer: true, args: serverArgs });
  paths(['12345', '67890']);
});
after(async () => {
  if (server) await server.stop();
  rmSync(dbDir, { recursive: true, force: true });
});

async function outboxCount(page) {
  return Number((await page.getByTestId('outbox-count').textContent()).trim());
}

async function confirmAndWait(page, code) {
  await page.getByTestId('confirm').click();
  await page.waitForFunction((c) => document.body.dataset.lastConfirmed === c, code);
}

describe('web pad with the server', () => {
  it('recognises over the websocket in server mode and syncs the confirmed code', async () => {
    const b = await launch();
    const sent = [], received = [];
    b.page.on('websocket', (ws) => {
      ws.on('framesent', (f) => sent.push(JSON.parse(f.payload)));
      ws.on('framereceived', (f) => received.push(JSON.parse(f.payload)));
    });
    try {
      await openPad(b.page, `${server.url}?server=1`, { format: '5' });
      assert.equal(await b.page.evaluate(() => document.body.dataset.recogniser), 'server');
      await draw(b.page, '12345');
      assert.equal(await codeText(b.page), '12345');
      const predicted = await b.page.getByTestId('digit').evaluateAll((els) => els.map((e) => e.dataset.digit).join(''));
      assert.equal(predicted, '12345');

      await confirmAndWait(b.page, '12345');
      // Deleted from the outbox only once the server acknowledged the commit.
      await b.page.waitForFunction(() => document.getElementById('outbox-count').textContent.trim() === '0', null, { timeout: 15000 });
      assert.deepEqual(await outbox(b.page), []);
      assert.deepEqual(b.errors, []);

      const fb = sent.find((m) => m.type === 'feedback');
      assert.ok(fb, 'a feedback envelope was sent');
      assert.equal(fb.v, 1);
      assert.equal(fb.data.code, '12345');
      assert.ok(fb.data.prediction_id, 'server-mode feedback names the server prediction');
      assert.equal(fb.data.inputs?.length, 5, 'server-mode feedback carries one 28x28 input per digit');
      const ack = received.find((m) => m.type === 'ack' && m.id === fb.id);
      assert.equal(ack.data.idempotency_key, fb.data.idempotency_key);
      const res = await fetch(new URL(`v1/predictions/${fb.data.prediction_id}`, server.url));
      assert.equal(res.status, 200);
      const stored = JSON.stringify(await res.json());
      assert.ok(stored.includes(fb.data.idempotency_key) || stored.includes(ack.data.feedback_id), `feedback stored with the prediction: ${stored.slice(0, 300)}`);
    } finally {
      await b.close();
    }
  });

  it('falls back to the server when the browser has no WebAssembly', async () => {
    const b = await launch();
    try {
      await b.page.addInitScript(() => { delete globalThis.WebAssembly; });
      await openPad(b.page, server.url, { format: '5' });
      assert.equal(await b.page.evaluate(() => document.body.dataset.recogniser), 'server');
      await draw(b.page, '67890');
      assert.equal(await codeText(b.page), '67890');
      // Without wasm the record names the server's prediction; it is still saved and synced.
      await confirmAndWait(b.page, '67890');
      await b.page.waitForFunction(() => document.getElementById('outbox-count').textContent.trim() === '0', null, { timeout: 15000 });
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  it('keeps confirmed codes while the server is away and sends them when it is back', async () => {
    const b = await launch();
    try {
      await openPad(b.page, server.url, { format: '5' }); // local (wasm) recognition, server for sync
      await b.page.waitForFunction(() => document.body.dataset.link === 'open');
      const port = new URL(server.url).port;
      await server.stop();
      server = null;
      await b.page.waitForFunction(() => document.body.dataset.link !== 'open');

      await draw(b.page, '67890');
      assert.equal(await codeText(b.page), '67890');
      await confirmAndWait(b.page, '67890');
      assert.equal(await outboxCount(b.page), 1, 'record waits in the outbox');
      const [rec] = await outbox(b.page);
      assert.equal(rec.code, '67890');

      server = await startServer({ withServer: true, args: [...serverArgs, '-addr', `127.0.0.1:${port}`] });
      await b.page.waitForFunction(() => document.getElementById('outbox-count').textContent.trim() === '0', null, { timeout: 40000 });
      // While the server was down Chromium logs the failed websocket handshakes; nothing else may be logged.
      const others = b.errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
      assert.deepEqual(others, []);
    } finally {
      await b.close();
    }
  });

  it('switches the in-browser model when the server announces a new one (graph file, no reload)', async () => {
    const b = await launch();
    try {
      await openPad(b.page, server.url, { format: '5' }); // local (wasm) recognition, server link open
      await b.page.waitForFunction(() => document.body.dataset.link === 'open');
      const onnx = readFileSync(path.join(ROOT, 'assets/model.onnx')); // fp32: the page shipped int8
      const sha = createHash('sha256').update(onnx).digest('hex');
      assert.ok(!(await b.page.getByTestId('model').textContent()).includes(sha.slice(0, 12)), 'starts on another model');

      const put = await fetch(new URL('v1/admin/model?name=e2e-fp32', server.url), {
        method: 'PUT', body: onnx,
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/octet-stream' },
      });
      assert.equal(put.status, 200, await put.text());
      const card = await (await fetch(new URL('v1/model', server.url))).json();
      assert.equal(card.sha256, sha);
      const graph = await fetch(new URL(card.graph_url, server.url));
      assert.equal(graph.headers.get('x-model-sha256'), sha);
      const gbytes = Buffer.from(await graph.arrayBuffer());
      assert.equal(createHash('sha256').update(gbytes).digest('hex'), card.graph_sha256);

      // The announcement reaches the page; the worker fetches the graph file, checks it and swaps.
      await b.page.waitForFunction((p) => document.getElementById('model-info').textContent.includes(p), sha.slice(0, 12), { timeout: 20000 });
      assert.equal(await b.page.evaluate(() => document.body.dataset.recogniser), 'local');
      await draw(b.page, '12345');
      assert.equal(await codeText(b.page), '12345');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
});
