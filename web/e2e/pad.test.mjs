// End-to-end tests of the web pad in headless Debian Chromium: handwriting from the Go stroke font is replayed
// with the mouse (or touch) and the recognised code, corrections, the IndexedDB outbox and offline use are
// checked through the page's test hooks. Run: make test-web (or `node --test pad.test.mjs` after `make web`).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS, startServer, withPad, draw, drawTouch, settled, codeText, outbox, paths,
} from './lib.mjs';

let server;
before(async () => {
  server = await startServer();
  paths(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '12', '12345', '67890', '905']);
});
after(async () => { if (server) await server.stop(); });


async function digitBoxes(page) {
  return page.getByTestId('digit').evaluateAll((els) => els.map((e) => ({
    digit: e.dataset.digit,
    confidence: Number(e.dataset.confidence),
    left: e.getBoundingClientRect().left,
  })));
}

describe('web pad', () => {
  it('downloads at most 1.5 MB gzip of wasm and model', async () => {
    // Wire sizes as the server sends them to a browser that accepts gzip (issue 4's download budget).
    let total = 0;
    for (const f of ['gen/app.wasm', 'gen/model.graph']) {
      const res = await fetch(new URL(f, server.url), { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(res.status, 200, f);
      assert.equal(res.headers.get('content-encoding'), 'gzip', `${f} is served gzipped`);
      const wire = Number(res.headers.get('content-length'));
      assert.ok(wire > 0, `${f} has a Content-Length`);
      await res.arrayBuffer();
      total += wire;
    }
    assert.ok(total <= 1.5e6, `wasm + model graph are ${total} bytes gzip, budget 1,500,000`);
  });

  it('recognises each single digit', async () => {
    await withPad({ url: server.url, format: '' }, async ({ page }) => {
      for (const d of ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
        await page.getByTestId('clear').click();
        await draw(page, d);
        assert.equal(await codeText(page), d, `drawn ${d}`);
        const boxes = await digitBoxes(page);
        assert.equal(boxes.length, 1, `one box for ${d}`);
        assert.equal(boxes[0].digit, d);
        assert.ok(boxes[0].confidence > 0 && boxes[0].confidence <= 1, `confidence ${boxes[0].confidence}`);
      }
    });
  });

  it('recognises a 5-digit postal code with one box per digit, left to right', async () => {
    await withPad({ url: server.url, format: '5' }, async ({ page }) => {
      for (const code of ['12345', '67890']) {
        await page.getByTestId('clear').click();
        await draw(page, code);
        assert.equal(await codeText(page), code);
        const boxes = await digitBoxes(page);
        assert.deepEqual(boxes.map((b) => b.digit).join(''), code);
        for (let i = 1; i < boxes.length; i++) assert.ok(boxes[i].left > boxes[i - 1].left, 'boxes ordered left to right');
        assert.equal((await page.locator('#format-error').textContent()).trim(), '', 'no format error');
      }
    });
  });

  it('undoes the last stroke and clears the pad', async () => {
    await withPad({ url: server.url, format: '' }, async ({ page }) => {
      await draw(page, '12');
      assert.equal(await codeText(page), '12');
      const strokesOf2 = paths(['2']).codes['2'].paths.length;
      for (let i = 0; i < strokesOf2; i++) await page.getByTestId('undo').click();
      await settled(page);
      assert.equal(await codeText(page), '1');
      await page.getByTestId('clear').click();
      await settled(page);
      assert.equal(await codeText(page), '');
      assert.equal(await page.getByTestId('digit').count(), 0);
    });
  });

  it('corrects digits by tap and by keyboard, confirms, and stores a feedback record in the outbox', async () => {
    await withPad({ url: server.url, format: '5' }, async ({ page }) => {
      await draw(page, '12345');
      assert.equal(await codeText(page), '12345');

      await page.getByTestId('digit').nth(2).click(); // tap the 3
      await page.getByTestId('pick-8').click();
      await settled(page); // the fix is applied by Go in the worker
      assert.equal(await codeText(page), '12845');
      assert.equal(await page.getByTestId('digit').nth(2).getAttribute('data-digit'), '8');

      await page.getByTestId('digit').nth(4).focus(); // keyboard: focus the 5 and type 0
      await page.keyboard.press('0');
      await settled(page);
      assert.equal(await codeText(page), '12840');
      await page.screenshot({ path: path.join(ARTIFACTS, 'pad-corrected.png') });

      await page.getByTestId('confirm').click();
      await page.waitForFunction(() => document.body.dataset.lastConfirmed === '12840');
      assert.equal(await codeText(page), '', 'pad cleared after confirming');

      const manifest = await page.evaluate(() => fetch('gen/manifest.json').then((r) => r.json()));
      const records = await outbox(page);
      assert.equal(records.length, 1);
      const r = records[0];
      // Exactly the JSON fields of protocol.Feedback that apply to an offline, in-browser record.
      assert.deepEqual(Object.keys(r).sort(), ['client_id', 'code', 'created_at', 'digits', 'idempotency_key',
        'ink_png', 'inputs', 'labels', 'model_sha256', 'predicted']);
      assert.match(r.idempotency_key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.match(r.client_id, /^[0-9a-f-]{36}$/);
      assert.equal(r.code, '12840');
      assert.deepEqual(r.labels, [1, 2, 8, 4, 0]);
      assert.equal(r.predicted, '12345');
      assert.equal(r.digits.length, 5);
      assert.deepEqual(r.digits.map((d) => d.digit), [1, 2, 3, 4, 5]);
      for (const d of r.digits) {
        assert.equal(d.probs.length, 10);
        assert.equal(d.box.length, 4);
      }
      assert.equal(r.inputs.length, 5);
      for (const b64 of r.inputs) assert.equal(Buffer.from(b64, 'base64').length, 784);
      const png = Buffer.from(r.ink_png, 'base64');
      assert.equal(png.subarray(1, 4).toString(), 'PNG');
      assert.equal(r.model_sha256, manifest.model.sha256);
      assert.ok(Math.abs(Date.parse(r.created_at) - Date.now()) < 60000, `created_at ${r.created_at}`);

      await page.locator('details.settings summary').click();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
      const file = JSON.parse(readFileSync(await download.path(), 'utf8'));
      assert.deepEqual(file.map((x) => x.idempotency_key), [r.idempotency_key]);
      assert.equal((await page.getByTestId('outbox-count').textContent()).trim(), '1');
    });
  });

  it('can be corrected and confirmed with the keyboard alone', async () => {
    await withPad({ url: server.url, format: '' }, async ({ page }) => {
      await draw(page, '12');
      await page.getByTestId('pad').focus();
      await page.keyboard.press('Tab'); // from the pad to the first digit box
      assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'digit');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Enter'); // opens the picker on the second digit
      assert.equal(await page.locator('#picker').isVisible(), true);
      assert.match(await page.evaluate(() => document.activeElement.dataset.testid), /^pick-/);
      await page.keyboard.press('7');
      await settled(page);
      assert.equal(await codeText(page), '17');
      assert.equal(await page.evaluate(() => document.activeElement.dataset.digit), '7', 'focus back on the corrected box');
      await page.keyboard.press('Shift+Tab'); // back to the first box: keyboard focus shows a ring
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', 'visible focus ring');
      await page.getByTestId('confirm').focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.body.dataset.lastConfirmed === '17');
      assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'pad', 'focus returns to the pad');
    });
  });

  it('keeps recognising offline after a reload', async () => {
    await withPad({ url: server.url, format: '' }, async ({ context, page }) => {
      await page.waitForFunction(() => document.body.dataset.offline === '1', null, { timeout: 15000 });
      await context.setOffline(true);
      await page.reload();
      await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 15000 });
      await draw(page, '67890');
      assert.equal(await codeText(page), '67890');
      await page.screenshot({ path: path.join(ARTIFACTS, 'pad-offline.png') });
      await context.setOffline(false);
    });
  });

  it('works with touch on a high-DPI phone', async () => {
    const context = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, hasTouch: true, isMobile: true };
    await withPad({ url: server.url, format: '', context }, async ({ page }) => {
      const { css, px } = await page.getByTestId('pad').evaluate((c) => ({ css: c.getBoundingClientRect().width, px: c.width }));
      assert.equal(px, Math.round(css * 3), 'canvas backed by device pixels');
      await drawTouch(page, '905');
      assert.equal(await codeText(page), '905');
      await page.screenshot({ path: path.join(ARTIFACTS, 'pad-phone.png') });
    });
  });
});
