// The clerk's story on the pad, continued (issue 11, points 4, 5, 7, 9, 10 and the review's cosmetics): digits
// deleted and inserted to fix a segmentation error (Undo/Redo take them back), the whole code typed without
// ink (keyboard and on-screen number pad), digit tags that never overlap on a phone, "undo last confirm"
// racing a send, and a server-mode pad that swapped models going offline. Desktop Chromium 1280×800 and a
// 390×844 touch phone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { devices } from 'playwright-core';
import {
  startServer, startClerkServer, launch, openPad, withPad, digits, mapper, replay, draw, settled, codeText, outbox,
  paths, ROOT,
} from './lib.mjs';

const TOKEN = 'e2e-admin-token';
let server;
before(async () => {
  server = await startClerkServer('edit', TOKEN);
  paths(['3058', '30581', '30582']);
  paths(['30582'], { gap: 0.02 });
});
after(async () => { if (server) await server.stop(); });

const DESKTOP = { viewport: { width: 1280, height: 800 } };
const phone = devices['iPhone 13'] || {};
const PHONE = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 3, userAgent: phone.userAgent };


// drawScaled replays a code's strokes squeezed or as they are (gap: synth's gap between digits), with touch
// on a phone.
async function drawCode(page, code, { gap = 0.25, touch = false } = {}) {
  const p = paths([code], { gap });
  const map = await mapper(page, p);
  await replay(page, p.codes[code].paths.map((st) => st.map(map)), { touch });
  await page.waitForTimeout(200);
  await settled(page);
}

// confirm presses Confirm (or, for flagged digits, the one explicit "confirm anyway") and waits for the save.
async function confirm(page, code, { tap = false } = {}) {
  const press = (id) => (tap ? page.getByTestId(id).tap() : page.getByTestId(id).click());
  if (await page.getByTestId('confirm-anyway').isVisible()) await press('confirm-anyway');
  else await press('confirm');
  await page.waitForFunction((c) => document.body.dataset.lastConfirmed === c, code);
}

// The tags' boxes, the pad's box and whether any two tags overlap.
async function tagLayout(page) {
  return page.evaluate(() => {
    const pad = document.getElementById('pad-wrap').getBoundingClientRect();
    const tags = [...document.querySelectorAll('[data-testid="tag"]')].map((t) => t.getBoundingClientRect())
      .map((r) => ({ x: r.x, y: r.y, w: r.width, h: r.height }));
    const overlaps = [];
    for (let i = 0; i < tags.length; i++) for (let j = i + 1; j < tags.length; j++) {
      const a = tags[i], b = tags[j];
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps.push([i, j]);
    }
    const outside = tags.filter((t) => t.x < pad.x - 0.5 || t.y < pad.y - 0.5 || t.x + t.w > pad.right + 0.5 || t.y + t.h > pad.bottom + 0.5).length;
    return { n: tags.length, overlaps, outside };
  });
}

async function confirmInView(page) {
  const c = await page.getByTestId('confirm').boundingBox();
  return c.y >= 0 && c.y + c.height <= page.viewportSize().height;
}

describe('the clerk, fixing and typing codes', () => {
  it('inserts a missed digit and deletes an extra one, without rewriting the code, and Undo/Redo take them back', async () => {
    await withPad({ url: server.url, format: '5', context: DESKTOP }, async ({ page }) => {
      await draw(page, '3058');
      const read = await digits(page);
      assert.equal(read.length, 4);
      assert.equal(await page.evaluate(() => document.body.dataset.confirmable), '0');
      // Insert the missing last digit after digit 4: the code fits the format without a new stroke.
      await page.getByTestId('digit').nth(3).click();
      await page.getByTestId('pick-after').click();
      await page.getByTestId('pick-2').click();
      await settled(page);
      assert.equal(await codeText(page), `${read}2`);
      assert.equal(await page.locator('.digit.inserted').count(), 1);
      // The inserted digit has no ink: its box stands beside its neighbour's, not over it.
      const spans = await page.getByTestId('digit').evaluateAll((els) => els.map((e) => {
        const r = e.getBoundingClientRect();
        return [r.left, r.right];
      }));
      assert.ok(spans[4][0] >= spans[3][1], `inserted digit's box ${spans[4]} overlaps digit 4's ${spans[3]}`);
      assert.equal(await page.evaluate(() => document.body.dataset.confirmable === '1' || !!document.getElementById('doubt').textContent), true);
      // Delete digit 1 with the keyboard: four digits again, and the deleted ink is shown struck out.
      await page.getByTestId('digit').nth(0).focus();
      await page.keyboard.press('Delete');
      await settled(page);
      assert.equal(await codeText(page), `${read.slice(1)}2`);
      assert.equal(await page.getByTestId('deleted-digit').count(), 1);
      await page.screenshot({ path: path.join(ROOT, 'docs', 'pad-edit.png') });
      // Undo takes back the deletion, then the insertion; Redo brings both again.
      await page.keyboard.press('Control+z');
      await settled(page);
      assert.equal(await codeText(page), `${read}2`);
      await page.getByTestId('undo').click();
      await settled(page);
      assert.equal(await codeText(page), read);
      await page.keyboard.press('Control+Shift+z');
      await settled(page);
      assert.equal(await codeText(page), `${read}2`);
      await page.getByTestId('redo').click();
      await settled(page);
      assert.equal(await codeText(page), `${read.slice(1)}2`);
      await page.getByTestId('undo').click();
      await settled(page);
      // The edited code is confirmed; its record keeps the ink but no per-digit inputs.
      await confirm(page, `${read}2`);
      const [rec] = await outbox(page);
      assert.equal(rec.code, `${read}2`);
      assert.ok(rec.ink_png, 'the ink stays in the record');
      assert.equal(rec.inputs, undefined, 'no per-digit inputs for an edited code');
    });
  });

  it('deletes a digit too many (five digits written, format 4) by tapping it on a phone', async () => {
    await withPad({ url: server.url, format: '4', context: PHONE }, async ({ page }) => {
      await drawCode(page, '30581', { touch: true });
      const read = await digits(page);
      assert.equal(read.length, 5);
      await page.getByTestId('digit').nth(4).tap();
      await page.getByTestId('pick-delete').tap();
      await settled(page);
      assert.equal(await codeText(page), read.slice(0, 4));
      await confirm(page, read.slice(0, 4), { tap: true });
      assert.equal((await outbox(page))[0].code, read.slice(0, 4));
    });
  });

  it('types a whole code with the keyboard; Enter confirms; the record has no ink; a short one is refused once', async () => {
    await withPad({ url: server.url, format: '5', context: DESKTOP }, async ({ page }) => {
      await page.getByTestId('type-toggle').click();
      await page.keyboard.type('3058');
      await settled(page);
      await page.keyboard.press('Enter');
      // Refused: the reason is on the page once, Confirm looks blocked (not blue), nothing is saved.
      await page.waitForFunction(() => /Not confirmed/.test(document.getElementById('status').textContent));
      const text = await page.evaluate(() => document.querySelector('main').innerText + document.querySelector('header').innerText);
      assert.equal(text.split('4 of 5 digits: add 1').length - 1, 1, `the format problem is shown once:\n${text}`);
      const bg = await page.getByTestId('confirm').evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.notEqual(bg, 'rgb(11, 87, 208)', 'a blocked Confirm is not blue');
      assert.equal((await outbox(page)).length, 0);
      await page.screenshot({ path: path.join(ROOT, 'docs', 'pad-typed.png') });
      await page.keyboard.type('2');
      await settled(page);
      assert.equal(await codeText(page), '30582');
      const blue = await page.getByTestId('confirm').evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(blue, 'rgb(11, 87, 208)', 'a confirmable code has the blue Confirm');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.body.dataset.lastConfirmed === '30582');
      const [rec] = await outbox(page);
      assert.equal(rec.code, '30582');
      assert.equal(rec.ink_png, undefined, 'a typed code carries no ink');
      assert.equal(rec.inputs, undefined, 'and no inputs: it is never training data');
      assert.equal(rec.digits, undefined);
    });
  });

  it('types a code on the on-screen number pad of a phone, over what the ink read', async () => {
    await withPad({ url: server.url, format: '5', context: PHONE }, async ({ page }) => {
      await drawCode(page, '3058', { touch: true });
      const read = await codeText(page);
      await page.getByTestId('type-toggle').tap();
      assert.equal(await page.getByTestId('type-code').inputValue(), read, 'typing starts from the reading');
      for (let k = 0; k < read.length; k++) await page.locator('#numpad [data-key="back"]').tap();
      for (const k of '30582') await page.locator(`#numpad [data-key="${k}"]`).tap();
      await settled(page);
      assert.equal(await codeText(page), '30582');
      assert.ok(await confirmInView(page), 'Confirm in view while typing');
      await page.getByTestId('confirm').tap();
      await page.waitForFunction(() => document.body.dataset.lastConfirmed === '30582');
      const [rec] = await outbox(page);
      assert.equal(rec.code, '30582');
      assert.equal(rec.ink_png, undefined, 'the ink is not saved with a typed code');
    });
  });

  it('on a phone, upright and on its side, five digits\' tags never overlap and Confirm stays in view, also written tightly', async () => {
    await withPad({ url: server.url, format: '5', context: PHONE }, async ({ page }) => {
      for (const [name, size] of [['portrait', { width: 390, height: 844 }], ['landscape', { width: 844, height: 390 }]]) {
        await page.setViewportSize(size);
        await page.waitForTimeout(100);
        for (const gap of [0.25, 0.02]) {
          await drawCode(page, '30582', { gap, touch: true });
          const n = await page.getByTestId('digit').count();
          assert.ok(n >= 4, `${n} digits read (${name}, gap ${gap})`);
          const t = await tagLayout(page);
          assert.equal(t.n, n);
          assert.deepEqual(t.overlaps, [], `tags overlap (${name}, gap ${gap})`);
          assert.equal(t.outside, 0, `tags off the pad (${name}, gap ${gap})`);
          assert.ok(await confirmInView(page), `Confirm in view (${name}, gap ${gap})`);
          if (gap === 0.02 && name === 'portrait') await page.screenshot({ path: path.join(ROOT, 'docs', 'pad-phone-tight-portrait.png') });
          await page.getByTestId('clear').tap();
          await settled(page);
        }
      }
    });
  });
});

// sendSpy records every feedback message the page hands to its websocket, and holds them while
// window.__holdFeedback is set (released in order by window.__releaseFeedback()).
function sendSpy() {
  const orig = WebSocket.prototype.send;
  window.__sentKeys = [];
  window.__held = [];
  window.__holdFeedback = false;
  WebSocket.prototype.send = function send(data) {
    let env = null;
    try { env = JSON.parse(data); } catch { /* not ours */ }
    if (env && env.type === 'feedback') {
      window.__sentKeys.push(env.data.idempotency_key);
      if (window.__holdFeedback) { window.__held.push([this, data]); return; }
    }
    return orig.call(this, data);
  };
  window.__releaseFeedback = () => {
    window.__holdFeedback = false;
    for (const [ws, data] of window.__held.splice(0)) orig.call(ws, data);
  };
}

const recentState = (page) => page.evaluate(() => {
  const li = document.querySelector('[data-testid="recent-code"]');
  return li ? li.dataset.state : '';
});

describe('undo last confirm, racing the send', () => {
  it('withdraws an unsent code for good, and refuses to withdraw one already handed to the socket', async () => {
    await withPad({ url: server.url, format: '', context: DESKTOP, init: sendSpy }, async ({ page }) => {
      // Not enrolled: the send is refused by the server (nothing stored), so the code is still withdrawable.
      await draw(page, '3058');
      const first = await codeText(page);
      await confirm(page, first);
      await page.waitForFunction(() => document.querySelector('[data-testid="recent-code"]')?.dataset.state === 'refused', null, { timeout: 10000 });
      const firstKey = (await outbox(page))[0].idempotency_key;
      await page.getByTestId('unconfirm').click();
      await page.waitForFunction(() => /withdrawn; it will not be sent/.test(document.getElementById('status').textContent));
      assert.equal(await recentState(page), 'withdrawn');
      assert.equal((await outbox(page)).length, 0);

      // Enrol; the withdrawn code is never sent again.
      const r = await fetch(new URL('/v1/admin/enrolments', server.url), { method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: '{"name":"race"}' });
      const { code: once } = await r.json();
      await page.getByTestId('enrol-code').fill(once);
      await page.getByTestId('enrol-submit').click();
      await page.waitForFunction(() => document.getElementById('sync').dataset.sync === 'synced', null, { timeout: 15000 });

      // Hold the socket: the next code is claimed and handed to the socket, but no reply can come yet.
      await page.evaluate(() => { window.__holdFeedback = true; });
      await page.getByTestId('clear').click();
      await draw(page, '30582');
      const second = await codeText(page);
      await confirm(page, second);
      await page.waitForFunction(() => window.__held.length === 1);
      await page.waitForFunction(() => document.querySelector('[data-testid="recent-code"]')?.dataset.state === 'sending');
      assert.ok(await page.getByTestId('unconfirm').isHidden(), 'no Undo last confirm for a code on its way');
      // A press that raced the claim (the button was still showing) is refused in words.
      await page.evaluate(() => document.getElementById('unconfirm').click());
      await page.waitForFunction(() => /already sent; it cannot be withdrawn/.test(document.getElementById('status').textContent));
      assert.equal((await outbox(page)).length, 1, 'the code stays confirmed');
      await page.evaluate(() => window.__releaseFeedback());
      await page.waitForFunction(() => document.querySelector('[data-testid="recent-code"]')?.dataset.state === 'sent', null, { timeout: 15000 });
      assert.equal((await outbox(page)).length, 0, 'acknowledged');
      const sent = await page.evaluate(() => window.__sentKeys);
      assert.equal(sent.filter((k) => k === firstKey).length, 1, 'the withdrawn code went out once, refused, and never again');
    });
  });
});

describe('server mode and a model swap, offline', () => {
  let fp32;
  before(async () => {
    // This server runs the fp32 model with its calibrated card; the page ships int8.
    fp32 = await startServer({ withServer: true, args: ['-variant', 'fp32', '-token', TOKEN] });
  });
  after(async () => { if (fp32) await fp32.stop(); });

  it('adopts the server model with its calibration, keeps it across an offline reload, and swaps again when back', async () => {
    const onnx = readFileSync(path.join(ROOT, 'assets/model.onnx'));
    const sha = createHash('sha256').update(onnx).digest('hex');
    const b = await launch(DESKTOP);
    try {
      const page = b.page;
      await page.addInitScript(() => localStorage.setItem('digitpad.server', '1'));
      await openPad(page, fp32.url, { format: '' });
      assert.equal(await page.evaluate(() => document.body.dataset.recogniser), 'server');
      // The announcement swaps the browser's recogniser to the server's model.
      await page.waitForFunction((p) => document.getElementById('model-info').textContent.includes(p), sha.slice(0, 12), { timeout: 20000 });
      await page.waitForFunction(() => document.body.dataset.offline === '1', null, { timeout: 15000 });
      await draw(page, '3058');
      const onServer = await page.getByTestId('digit').evaluateAll((els) => els.map((e) => [e.dataset.digit, e.dataset.confidence]));

      // The same ink recognised in the browser by the swapped model, configured from the server's card exactly
      // as the server is: the same calibrated confidences (the recogniser the pad falls back to offline).
      await page.evaluate(() => window.digitpadRecognizeNow('local'));
      await settled(page);
      const local = await page.getByTestId('digit').evaluateAll((els) => els.map((e) => [e.dataset.digit, e.dataset.confidence]));
      assert.deepEqual(local, onServer, 'browser (swapped model) and server read the ink with the same confidences');

      // An offline reload comes up on the swapped model, not as a dead pad.
      await b.context.setOffline(true);
      await page.reload();
      await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 15000 });
      assert.equal(await page.evaluate(() => document.body.dataset.recogniser), 'local');
      assert.ok((await page.getByTestId('model').textContent()).includes(sha.slice(0, 12)), 'the swapped model after an offline reload');
      await draw(page, '3058');
      assert.equal((await codeText(page)).length, 4);

      // While the pad is offline the server swaps to the int8 model; back online, the pad follows.
      const int8 = readFileSync(path.join(ROOT, 'assets/model-int8.onnx'));
      const put = await fetch(new URL('v1/admin/model?name=e2e-int8', fp32.url), {
        method: 'PUT', body: int8, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/octet-stream' } });
      assert.equal(put.status, 200, await put.text());
      const sha8 = createHash('sha256').update(int8).digest('hex');
      await b.context.setOffline(false);
      await page.waitForFunction((p) => document.getElementById('model-info').textContent.includes(p), sha8.slice(0, 12), { timeout: 40000 });
      assert.deepEqual(b.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch|WebSocket/.test(e)), []);
    } finally {
      await b.close();
    }
  });
});
