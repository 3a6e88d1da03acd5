// The clerk's story on the pad (issue 11): no invented digits and no confirming a code that fails the format,
// corrections that stay with their digit, undo/redo, and enrolment so that confirmed codes reach the server.
// Desktop Chromium 1280×800 and a 390×844 touch phone. Screenshots go to docs/ for the README.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { devices } from 'playwright-core';
import {
  startClerkServer, launch, openPad, withPad, digits, mapper, replay, draw, settled, codeText, outbox, paths, ROOT,
} from './lib.mjs';

const TOKEN = 'e2e-admin-token';
let server;
before(async () => {
  server = await startClerkServer('clerk', TOKEN);
  paths(['3058', '30581']);
});
after(async () => { if (server) await server.stop(); });

// drawDigits writes the digits of code whose indexes pass keep, with the mouse (or touch).
async function drawDigits(page, code, keep = () => true, { touch = false } = {}) {
  const p = paths([code]);
  const c = p.codes[code];
  const map = await mapper(page, p);
  const digitOf = (stroke) => {
    const cx = stroke.reduce((a, q) => a + q[0], 0) / stroke.length;
    let best = 0, bd = Infinity;
    c.boxes.forEach((b, i) => { const d = Math.abs((b[0] + b[2]) / 2 - cx); if (d < bd) { bd = d; best = i; } });
    return best;
  };
  const kept = c.paths.filter((st) => keep(digitOf(st)));
  await replay(page, kept.map((st) => st.map(map)), { touch });
  drawDigits.strokes = kept.length;
  await page.waitForTimeout(200); // the debounce
  await settled(page);
}


describe('the clerk', () => {
  it('writing four digits with format 5 sees four digits and cannot confirm them', async () => {
    await withPad({ url: server.url, format: '5', context: { viewport: { width: 1280, height: 800 } } }, async ({ page }) => {
      await draw(page, '3058');
      assert.equal((await codeText(page)).length, 4, 'four digits shown, none invented');
      assert.equal(await page.evaluate(() => document.body.dataset.confirmable), '0');
      await page.getByTestId('confirm').click();
      assert.match(await page.getByTestId('format-error').textContent(), /4 of 5 digits: add 1/);
      assert.match(await page.locator('#status').textContent(), /Not confirmed/);
      // The reason is shown once, beside the code, and Confirm looks blocked (not the blue of a confirmable code).
      const text = await page.evaluate(() => document.querySelector('header').innerText + document.querySelector('main').innerText);
      assert.equal(text.split('4 of 5 digits').length - 1, 1, `the format problem is shown once:\n${text}`);
      assert.notEqual(await page.getByTestId('confirm').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(11, 87, 208)');
      assert.equal((await outbox(page)).length, 0, 'nothing saved');
      await page.screenshot({ path: path.join(ROOT, 'docs', 'pad-format.png') });
    });
  });

  it('corrects a digit, keeps the correction across a later stroke, and undoes and redoes both', async () => {
    await withPad({ url: server.url, format: '' }, async ({ page }) => {
      await drawDigits(page, '30581', (i) => i < 4);
      const before = await digits(page);
      assert.equal(before.length, 4);
      const pick = before[1] === '6' ? 7 : 6;
      await page.getByTestId('digit').nth(1).click();
      await page.getByTestId(`pick-${pick}`).click();
      await settled(page);
      assert.equal((await digits(page))[1], String(pick), 'corrected');
      await drawDigits(page, '30581', (i) => i === 4); // a fifth digit elsewhere
      const n = drawDigits.strokes;
      const after = await digits(page);
      assert.equal(after.length, 5);
      assert.equal(after[1], String(pick), 'the correction stays with its digit after a later stroke');
      for (let k = 0; k < n; k++) await page.keyboard.press('Control+z'); // undo the fifth digit's strokes
      await settled(page);
      assert.equal((await digits(page)).length, 4);
      assert.equal((await digits(page))[1], String(pick));
      await page.keyboard.press('Control+z'); // undo the correction
      await settled(page);
      assert.equal(await digits(page), before);
      await page.keyboard.press('Control+Shift+z'); // redo the correction
      await settled(page);
      assert.equal((await digits(page))[1], String(pick));
      for (let k = 0; k < n; k++) await page.getByTestId('redo').click(); // redo the strokes
      await settled(page);
      assert.equal((await digits(page)).length, 5);
      assert.equal((await digits(page))[1], String(pick));
    });
  });

  it('on a phone, sees sync refused, enrols with a one-time code, and the code reaches the server', async () => {
    const phone = devices['iPhone 13'] || {};
    await withPad({ url: server.url, format: '', context: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true,
      deviceScaleFactor: 3, userAgent: phone.userAgent } }, async ({ page }) => {
      // The phone's height is used and Confirm stays in view, upright and on its side.
      const pad = await page.getByTestId('pad').boundingBox();
      assert.ok(pad.height >= 300, `pad is ${pad.height} px tall on a 844 px phone`);
      const inView = async () => {
        const c = await page.getByTestId('confirm').boundingBox();
        return c.y >= 0 && c.y + c.height <= page.viewportSize().height;
      };
      assert.ok(await inView(), 'Confirm in view, portrait');
      await page.setViewportSize({ width: 844, height: 390 });
      await page.waitForTimeout(100);
      assert.ok(await inView(), 'Confirm in view, landscape');
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(100);
      await drawDigits(page, '3058', () => true, { touch: true });
      const code = await codeText(page);
      // Doubtful digits need a tap or "confirm anyway"; either way one explicit act.
      if (await page.getByTestId('confirm-anyway').isVisible()) await page.getByTestId('confirm-anyway').tap();
      else await page.getByTestId('confirm').tap();
      await page.waitForFunction((c) => document.body.dataset.lastConfirmed === c, code);
      await page.waitForFunction(() => document.getElementById('sync').dataset.sync === 'refused', null, { timeout: 10000 });
      assert.match(await page.getByTestId('sync').textContent(), /refused.*1 pending/);
      assert.ok(await page.getByTestId('enrol').isVisible(), 'the enrolment form is on the main screen');
      await page.screenshot({ path: path.join(ROOT, 'docs', 'pad-phone-enrol.png') });

      const r = await fetch(new URL('/v1/admin/enrolments', server.url), { method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: '{"name":"phone"}' });
      const { code: once } = await r.json();
      await page.getByTestId('enrol-code').fill(once.toLowerCase());
      await page.getByTestId('enrol-submit').tap();
      await page.waitForFunction(() => document.getElementById('sync').dataset.sync === 'synced', null, { timeout: 15000 });
      assert.equal((await outbox(page)).length, 0, 'sent and acknowledged');
      assert.match(await page.getByTestId('recent').textContent(), new RegExp(`${code} · sent`));
      assert.ok(!(await page.getByTestId('enrol').isVisible()));
      // The credential is kept in IndexedDB, not in the URL or localStorage.
      assert.ok(!page.url().includes('dpd_'));
      assert.ok(!JSON.stringify(await page.evaluate(() => ({ ...localStorage }))).includes('dpd_'));
      await page.screenshot({ path: path.join(ROOT, 'docs', 'pad-phone.png') });
    });
  });

  it('in server mode, a pad visited once online still recognises after an offline reload', async () => {
    const b = await launch();
    try {
      await b.page.addInitScript(() => localStorage.setItem('digitpad.server', '1'));
      await openPad(b.page, server.url, { format: '' });
      assert.equal(await b.page.evaluate(() => document.body.dataset.recogniser), 'server');
      // The model is cached in server mode too, and the service worker holds the shell.
      await b.page.waitForFunction(() => window.digitpadStats.load && document.body.dataset.offline === '1', null, { timeout: 15000 });
      await b.context.setOffline(true);
      await b.page.reload();
      await b.page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 15000 });
      assert.equal(await b.page.evaluate(() => document.body.dataset.recogniser), 'local');
      await draw(b.page, '3058');
      assert.equal((await codeText(b.page)).length, 4);
      await b.context.setOffline(false);
    } finally {
      await b.close();
    }
  });

  it('scratches out a digit by scribbling over it, and Undo brings it back', async () => {
    await withPad({ url: server.url, format: '' }, async ({ page }) => {
      await draw(page, '3058');
      const before = await digits(page);
      assert.equal(before.length, 4);
      const box = await page.getByTestId('digit').nth(1).boundingBox();
      await page.mouse.move(box.x + 2, box.y + 4);
      await page.mouse.down();
      for (let i = 1; i <= 10; i++) {
        await page.mouse.move(box.x + (i % 2 ? box.width - 2 : 2), box.y + 4 + (box.height - 8) * i / 10, { steps: 4 });
      }
      await page.mouse.up();
      await page.waitForFunction(() => /Scratched out/.test(document.getElementById('status').textContent), null, { timeout: 10000 });
      await page.waitForTimeout(200);
      await settled(page);
      assert.equal(await digits(page), before[0] + before.slice(2), 'the scribbled digit and the scribble are gone');
      await page.keyboard.press('Control+z');
      await settled(page);
      assert.equal(await digits(page), before, 'Undo brings the digit back');
    });
  });
});
