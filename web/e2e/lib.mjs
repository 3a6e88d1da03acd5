// Shared helpers of the browser tests and the bench: the pad's server, Debian's headless Chromium, handwriting
// paths from the Go stroke font (shared/synth via web/cmd/padpaths), drawing with the mouse or touch.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const E2E = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(E2E, '../..');
export const ARTIFACTS = path.join(E2E, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function goBuild(pkg, name) {
  const out = path.join(ARTIFACTS, name);
  execFileSync('go', ['build', '-o', out, pkg], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, GOFLAGS: process.env.GOFLAGS || '-mod=mod' } });
  return out;
}

// startServer serves the pad: DIGITPAD_URL if set (e.g. `digitpad serve`), else web/cmd/webserve over
// web/static on a free port. `make web` must have filled web/static/gen.
// withServer: run the real digitpad server (web/e2e/padserver: websocket, SQLite store) instead; extra args pass on.
export async function startServer({ withServer = false, args = [] } = {}) {
  if (process.env.DIGITPAD_URL && !withServer) return { url: process.env.DIGITPAD_URL, stop: async () => {} };
  const bin = withServer ? goBuild('./web/e2e/padserver', 'padserver') : goBuild('./web/cmd/webserve', 'webserve');
  const proc = spawn(bin, ['-addr', '127.0.0.1:0', '-dir', path.join(ROOT, 'web/static'), ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('webserve did not start within 10 s')), 10000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /serving the pad at (http:\/\/\S+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`webserve exited with ${code}`)); });
  });
  return {
    url,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', resolve);
      proc.kill('SIGTERM');
    }),
  };
}

// startClerkServer runs the real digitpad server (padserver) on a throwaway SQLite store, with feedback needing
// token or an enrolled device's credential, as with `digitpad serve`; stop also removes the store.
export async function startClerkServer(name, token) {
  const dbDir = mkdtempSync(path.join(tmpdir(), `digitpad-e2e-${name}-`));
  try {
    const server = await startServer({ withServer: true,
      args: ['-db', `sqlite:${path.join(dbDir, 'pad.db')}`, '-token', token, '-open-feedback=false'] });
    return { url: server.url, stop: async () => { await server.stop(); rmSync(dbDir, { recursive: true, force: true }); } };
  } catch (err) {
    rmSync(dbDir, { recursive: true, force: true });
    throw err;
  }
}

// launch opens Debian Chromium with a fresh profile. opts are Playwright context options (viewport,
// deviceScaleFactor, hasTouch, ...). Console errors and page errors are collected in ctx.errors.
export async function launch(opts = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), 'digitpad-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1200, height: 800 },
    ...opts,
  });
  const errors = [];
  const watch = (page) => {
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`console: ${msg.text()}`); });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] || await context.newPage();
  return {
    context,
    page,
    errors,
    close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); },
  };
}

// withPad runs fn with a fresh browser profile on the pad at opts.url (opts.context: Playwright context options,
// opts.format: the code format, opts.init: a script run before the page's) and fails on any console or page error.
export async function withPad(opts, fn) {
  const b = await launch(opts.context);
  try {
    if (opts.init) await b.page.addInitScript(opts.init);
    await openPad(b.page, opts.url, { format: opts.format });
    await fn(b);
    assert.deepEqual(b.errors, [], 'console errors');
  } finally {
    await b.close();
  }
}

// digits is the digits shown in the pad's digit tags, as a string.
export const digits = (page) => page.getByTestId('digit').evaluateAll((els) => els.map((e) => e.dataset.digit).join(''));

// openPad loads the page and waits until the model is loaded (body[data-ready="1"]).
export async function openPad(page, url, { format } = {}) {
  if (format !== undefined) {
    await page.addInitScript((f) => localStorage.setItem('digitpad.format', f), format);
  }
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 15000 });
}

const pathsCache = new Map(); // gap -> {w, h, codes}
// paths returns handwriting for the given codes, laid out on a nominal w×h canvas; gap is the space between
// digits in digit heights (synth's default 0.25; 0.02 is written tightly).
export function paths(codes, { gap = 0.25 } = {}) {
  const have = pathsCache.get(gap);
  const missing = codes.filter((c) => !have || !have.codes[c]);
  if (missing.length) {
    const bin = goBuild('./web/cmd/padpaths', 'padpaths');
    const all = [...new Set([...(have ? Object.keys(have.codes) : []), ...codes])];
    pathsCache.set(gap, JSON.parse(execFileSync(bin, ['-w', '1000', '-h', '310', '-seed', '7', '-gap', String(gap), ...all], { encoding: 'utf8' })));
  }
  return pathsCache.get(gap);
}

// mapper maps nominal path coordinates onto the pad's current box in page coordinates.
export async function mapper(page, nominal) {
  const box = await page.getByTestId('pad').boundingBox();
  const s = Math.min(box.width / nominal.w, box.height / nominal.h);
  const ox = box.x + (box.width - nominal.w * s) / 2;
  const oy = box.y + (box.height - nominal.h * s) / 2;
  return ([x, y]) => [ox + x * s, oy + y * s];
}

// replay draws strokes given in page coordinates with the mouse, or with touch events (a finger on a tablet)
// through the DevTools protocol.
export async function replay(page, strokes, { touch = false } = {}) {
  const cdp = touch ? await page.context().newCDPSession(page) : null;
  for (const pts of strokes) {
    if (touch) {
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: pts[0][0], y: pts[0][1] }] });
      for (const [x, y] of pts.slice(1)) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y }] });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    } else {
      await page.mouse.move(pts[0][0], pts[0][1]);
      await page.mouse.down();
      for (const [x, y] of pts.slice(1)) await page.mouse.move(x, y);
      await page.mouse.up();
    }
  }
  if (cdp) await cdp.detach();
}

// draw replays a code's strokes with the mouse, then waits for the recognition of the last stroke.
export async function draw(page, code, { wait = true } = {}) {
  const p = paths([code]);
  const map = await mapper(page, p);
  await replay(page, p.codes[code].paths.map((s) => s.map(map)));
  if (wait) await settled(page);
}

// drawTouch replays a code with touch events (a finger on a tablet).
export async function drawTouch(page, code) {
  const p = paths([code]);
  const map = await mapper(page, p);
  await replay(page, p.codes[code].paths.map((s) => s.map(map)), { touch: true });
  await settled(page);
}

// settled waits until the shown result reflects every stroke (no debounce or request pending).
export async function settled(page) {
  await page.waitForFunction(() => document.body.dataset.pending === '0', null, { timeout: 10000 });
}

export async function codeText(page) {
  return (await page.getByTestId('code').textContent()).trim();
}

// outbox reads every record of the IndexedDB outbox.
export function outbox(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('digitpad');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const get = req.result.transaction('outbox').objectStore('outbox').getAll();
      get.onsuccess = () => resolve(get.result);
      get.onerror = () => reject(get.error);
    };
  }));
}
