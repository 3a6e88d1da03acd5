// Browser test of /dashboard: the real server (server/internal/dashdemo) with streamed traffic, Debian's
// headless Chromium driven by playwright-core. The page must draw every chart from live data, show the drifting
// kiosk and not the depots, log no errors, and leave a screenshot for the README (docs/dashboard.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SHOT = process.env.DASHBOARD_SHOT || path.join(ROOT, 'docs/dashboard.png');

function startDemo() {
  const bin = path.join(mkdtempSync(path.join(tmpdir(), 'dashdemo-')), 'dashdemo');
  execFileSync('go', ['build', '-o', bin, './server/internal/dashdemo'], { cwd: ROOT, stdio: 'inherit' });
  const proc = spawn(bin, ['-duration', '3m', '-rate', '30'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('dashdemo did not start within 20 s')), 20000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /dashboard at (http:\/\/\S+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`dashdemo exited with ${code}`)); });
  });
  return { proc, url };
}

test('dashboard draws live charts and flags the drifting client', { timeout: 150000 }, async () => {
  const demo = startDemo();
  const profile = mkdtempSync(path.join(tmpdir(), 'digitpad-chromium-'));
  let context;
  try {
    const url = await demo.url;
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1250 },
    });
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    assert.equal(await page.locator('#missing').isHidden(), true, 'uPlot is embedded (make dashboard)');
    // The kiosk writing differently is flagged, with the stroke-width test among the alarms. (Whether the
    // depots stay quiet is the Go tests' business: a window from the reference distribution may alarm 5% of the
    // time, and this traffic is not deterministic.)
    await page.waitForSelector('#clients tr[data-client="kiosk-7"] td.drift', { timeout: 90000 });
    const alarms = await page.locator('#clients tr[data-client="kiosk-7"] td').nth(3).textContent();
    assert.match(alarms, /stroke_width/, 'the kiosk alarms on stroke width');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#clients tbody tr')].map((r) => r.dataset.client);
      return rows.includes('depot-a') && rows.includes('depot-b');
    }, null, { timeout: 30000 });
    // Every chart has drawn a canvas with data from the series endpoint, shedding included.
    await page.waitForFunction(async () => {
      const r = await fetch('../v1/monitoring/series');
      const s = await r.json();
      return s.points.length >= 20 && s.points.some((p) => p.shed > 0) && s.points.some((p) => p.p99 !== null);
    }, null, { timeout: 60000, polling: 1000 });
    await page.waitForTimeout(2500); // one more refresh of the page
    const ids = ['c-traffic', 'c-latency', 'c-shed', 'c-batch', 'c-conf', 'c-rates', 'c-drift', 'c-clients'];
    for (const id of ids) {
      assert.equal(await page.locator(`#${id} canvas`).count(), 1, `${id} has a chart`);
    }
    const legend = await page.locator('#c-drift .u-legend').textContent();
    assert.match(legend, /stroke_width_ks/, 'drift chart has one series per test');
    const est = await page.locator('#clients tr[data-client="kiosk-7"] td').nth(4).textContent();
    assert.match(est, /%$/, 'estimated accuracy shown for the kiosk');
    await page.screenshot({ path: SHOT, fullPage: true });
    assert.deepEqual(errors, [], 'no console or page errors');
  } finally {
    if (context) await context.close();
    rmSync(profile, { recursive: true, force: true });
    demo.proc.kill('SIGTERM');
  }
});
