// The pad follows a canary announcement like a production one: `digitpad serve --canary candidate` with every
// websocket client in the canary (--canary-share 1) announces the registry's candidate (another variant of the
// shipped model: fp32 where the page and production run int8); the pad, recognising locally, downloads the candidate's graph
// file and card from the canary URLs and switches to it without a reload.
// Needs `make web` (the embedded pad) and the e2e packages; run alone: node --test canary.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, openPad, draw, codeText, paths, ROOT, ARTIFACTS } from './lib.mjs';

const data = mkdtempSync(path.join(tmpdir(), 'digitpad-e2e-canary-'));
const registry = path.join(data, 'registry');
const bin = path.join(ARTIFACTS, 'digitpad');
let serve;
let url;

before(async () => {
  execFileSync('go', ['build', '-o', bin, './cmd/digitpad'], { cwd: ROOT, stdio: 'inherit' });
  serve = spawn(bin, ['serve', '--addr', process.env.CANARY_ADDR || '127.0.0.1:0', '--data', data, '--registry', registry, '--registry-poll', '200ms',
    '--variant', 'auto', '--canary', 'candidate', '--canary-share', '1', '--rate', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('digitpad serve printed no URL within 30 s')), 30000);
    serve.stdout.on('data', (d) => {
      buf += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve(`${m[1]}/`); }
    });
    serve.on('exit', (code) => { clearTimeout(timer); reject(new Error(`digitpad serve exited with ${code}`)); });
  });
  serve.stdout.resume();
  paths(['12345']);
});

after(async () => {
  if (serve && serve.exitCode === null) {
    await new Promise((resolve) => { serve.once('exit', resolve); serve.kill('SIGTERM'); });
  }
  rmSync(data, { recursive: true, force: true });
});

describe('canary in the browser', () => {
  it('switches the in-browser model to the candidate announced to a canary client', async () => {
    const b = await launch();
    try {
      await openPad(b.page, url, { format: '5' }); // local (wasm) recognition, server link open
      await b.page.waitForFunction(() => document.body.dataset.link === 'open');
      const onnx = readFileSync(path.join(ROOT, 'assets/model.onnx'));
      const sha = createHash('sha256').update(onnx).digest('hex');
      assert.ok(!(await b.page.getByTestId('model').textContent()).includes(sha.slice(0, 12)), 'starts on the int8 model');

      // The candidate: the fp32 file alone (registering assets/model.onnx would bring its int8 sibling, the
      // page's own model), so the server serves it as fp32 beside production's fastest variant.
      const cand = path.join(data, 'candidate');
      mkdirSync(cand);
      copyFileSync(path.join(ROOT, 'assets/model.onnx'), path.join(cand, 'model.onnx'));
      copyFileSync(path.join(ROOT, 'assets/model.json'), path.join(cand, 'model.json'));
      execFileSync(bin, ['registry', 'register', path.join(cand, 'model.onnx'), '--registry', registry,
        '--alias', 'candidate', '--reason', 'e2e canary'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
      await b.page.waitForFunction((p) => document.getElementById('model-info').textContent.includes(p), sha.slice(0, 12), { timeout: 30000 });
      // Production did not move: the server's own card is still the int8 model's.
      const prod = await (await fetch(new URL('v1/model', url))).json();
      assert.notEqual(prod.sha256, sha);
      const canary = await (await fetch(new URL('v1/canary/model', url))).json();
      assert.equal(canary.sha256, sha);
      assert.equal(await b.page.evaluate(() => document.body.dataset.recogniser), 'local');
      await draw(b.page, '12345');
      assert.equal(await codeText(b.page), '12345');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
});
