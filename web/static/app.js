// The pad's main thread: capture ink, show results, corrections, the outbox. Recognition runs in Go — in the
// Web Worker (worker.js + gen/app.wasm) or, in server mode, on the server over the websocket.
import { Outbox, getSetting, putSetting } from './outbox.js';
import { ServerLink, OutboxSync } from './sync.js';

const $ = (id) => document.getElementById(id);
const wrap = $('pad-wrap');
const canvas = $('pad');
const ctx = canvas.getContext('2d');
const boxesEl = $('boxes');
const codeEl = $('code');
const statusEl = $('status');
const formatErrEl = $('format-error');
const picker = $('picker');
const confirmBtn = $('confirm');

const DEBOUNCE_MS = 150;
const PAUSE_MS = 1200; // a format problem is shown once the clerk has paused this long (or tries to confirm)
const TAP_MOVE_PX = 4;
const TAP_MS = 500;
const params = new URLSearchParams(location.search);

// Timings for the bench script and the footer.
const stats = (window.digitpadStats = { start: performance.now(), readyMs: null, firstResultMs: null, results: 0 });

const state = {
  strokes: [], // each [[x, y], ...] in CSS pixels of the current canvas size
  current: null, // stroke being drawn
  pointerId: null,
  down: null, // {x, y, t, box} for tap detection
  cssW: 0,
  cssH: 0,
  result: null,
  // The clerk's fixes ({box, digit}) belong to the digit at box and survive strokes elsewhere; view is what Go
  // (recognize.ApplyFixes and CheckConfirm through the worker) makes of the result and the fixes.
  fixes: [],
  view: null,
  viewSeq: 0,
  anyway: false, // the clerk pressed "confirm anyway" for the doubtful digits of this code
  typed: null, // the code the clerk types instead of writing it (a string while typing), else null
  pickMode: 'set', // the picker corrects a digit ('set') or picks one to insert ('before', 'after')
  showFormat: false, // the format problem is shown once the clerk pauses or tries to confirm
  pauseTimer: null,
  history: [], // undo: snapshots {strokes, fixes}
  future: [], // redo
  selected: -1,
  seq: 0,
  shown: 0,
  timer: null,
  preferServer: false, // server mode chosen (setting, ?server=1) or no WebAssembly here
  localReady: false, // the worker's recogniser is loaded
  model: null, // the worker's model
  serverModel: null, // the sha256 the server announced
};

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', isError);
}

function setPending(p) {
  document.body.dataset.pending = p ? '1' : '0';
  updateButtons();
}

// ---------- settings ----------
const formatSel = $('format');
formatSel.value = localStorage.getItem('digitpad.format') ?? '5';
formatSel.addEventListener('change', () => {
  localStorage.setItem('digitpad.format', formatSel.value);
  scheduleRecognise(0);
});
const serverBox = $('server-mode');
serverBox.checked = params.get('server') === '1' || localStorage.getItem('digitpad.server') === '1';

function clientID() {
  let id = localStorage.getItem('digitpad.client_id');
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem('digitpad.client_id', id);
  }
  return id;
}

// ---------- drawing ----------
// The same pen as ink.MaskFromStrokes (ink.PenWidth; its numbers come in config.json), so the clerk sees what
// the recogniser sees. Until the config is read (a few ms after start) ink is drawn 1 px wide.
let pen = null;
function penWidth() { return pen ? Math.max(pen.min_width, Math.min(state.cssW, state.cssH) / pen.side_divisor) : 1; }

function resize() {
  const r = canvas.getBoundingClientRect();
  const w = r.width, h = r.height;
  if (w < 1 || h < 1) return;
  const dpr = window.devicePixelRatio || 1;
  if (state.cssW && (Math.abs(w - state.cssW) > 0.5 || Math.abs(h - state.cssH) > 0.5)) {
    const sx = w / state.cssW, sy = h / state.cssH;
    for (const s of state.strokes) for (const p of s) { p[0] *= sx; p[1] *= sy; }
  }
  const changed = w !== state.cssW || h !== state.cssH;
  state.cssW = w; state.cssH = h;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  ctx.setTransform(canvas.width / w, 0, 0, canvas.height / h, 0, 0);
  redraw();
  if (changed && state.strokes.length) scheduleRecognise(0);
}

function strokeStyle() {
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.lineWidth = penWidth();
  ctx.strokeStyle = '#10204a';
  ctx.fillStyle = '#10204a';
}

const mid = (a, b) => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];

// drawSegment draws the newest piece of stroke s (ending at index i) as a quadratic curve through midpoints,
// which smooths the polyline of pointer samples without lagging behind the pen.
function drawSegment(s, i) {
  if (i === 0) return;
  ctx.beginPath();
  if (i === 1) {
    ctx.moveTo(s[0][0], s[0][1]);
    const m = mid(s[0], s[1]);
    ctx.lineTo(m[0], m[1]);
  } else {
    const a = mid(s[i - 2], s[i - 1]);
    const b = mid(s[i - 1], s[i]);
    ctx.moveTo(a[0], a[1]);
    ctx.quadraticCurveTo(s[i - 1][0], s[i - 1][1], b[0], b[1]);
  }
  ctx.stroke();
}

function finishStroke(s) {
  ctx.beginPath();
  if (s.length === 1) {
    ctx.arc(s[0][0], s[0][1], penWidth() / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  const n = s.length;
  const a = mid(s[n - 2], s[n - 1]);
  ctx.moveTo(a[0], a[1]);
  ctx.lineTo(s[n - 1][0], s[n - 1][1]);
  ctx.stroke();
}

function drawStroke(s) {
  for (let i = 1; i < s.length; i++) drawSegment(s, i);
  finishStroke(s);
}

function redraw() {
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.restore();
  strokeStyle();
  for (const s of state.strokes) drawStroke(s);
  if (state.current) drawStroke(state.current);
}

function padPoint(ev) {
  const r = canvas.getBoundingClientRect();
  return [ev.clientX - r.left, ev.clientY - r.top];
}

wrap.addEventListener('pointerdown', (ev) => {
  if (state.pointerId !== null || (ev.pointerType === 'mouse' && ev.button !== 0)) return;
  ev.preventDefault();
  closePicker(false);
  state.pointerId = ev.pointerId;
  wrap.setPointerCapture(ev.pointerId);
  const p = padPoint(ev);
  const boxEl = ev.target.closest ? ev.target.closest('.digit') : null;
  state.down = { x: p[0], y: p[1], t: performance.now(), box: boxEl ? Number(boxEl.dataset.index) : -1, moved: 0 };
  state.current = [p];
  strokeStyle();
  clearTimeout(state.timer); // do not recognise half-written digits
});

wrap.addEventListener('pointermove', (ev) => {
  if (ev.pointerId !== state.pointerId || !state.current) return;
  const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [];
  for (const e of events.length ? events : [ev]) {
    const p = padPoint(e);
    const last = state.current[state.current.length - 1];
    const d = Math.hypot(p[0] - last[0], p[1] - last[1]);
    if (d < 0.5) continue; // sub-pixel jitter adds nothing
    state.down.moved += d;
    state.current.push(p);
    drawSegment(state.current, state.current.length - 1);
  }
});

function endPointer(ev, cancelled) {
  if (ev.pointerId !== state.pointerId) return;
  state.pointerId = null;
  const s = state.current;
  state.current = null;
  if (!s) return;
  const down = state.down;
  const tap = down.moved < TAP_MOVE_PX && performance.now() - down.t < TAP_MS;
  if (tap && down.box >= 0) {
    redraw(); // drop the tap's dot
    if (document.body.dataset.pending === '1') scheduleRecognise(0);
    openPicker(down.box);
    return;
  }
  if (cancelled && s.length < 2) { redraw(); return; }
  finishStroke(s);
  remember();
  state.showFormat = false;
  clearTimeout(state.pauseTimer);
  state.strokes.push(s);
  updateButtons();
  scheduleRecognise(DEBOUNCE_MS);
}
wrap.addEventListener('pointerup', (ev) => endPointer(ev, false));
wrap.addEventListener('pointercancel', (ev) => endPointer(ev, true));

// ---------- recognition ----------
let worker = null;
let link = null;
const waiting = new Map();
let reqID = 0;

function callWorker(msg, transfer) {
  const id = ++reqID;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ ...msg, id }, transfer || []);
  });
}

function startWorker() {
  if (worker) return;
  if (typeof WebAssembly !== 'object' || typeof Worker !== 'function') {
    fallBackToServer('this browser cannot run WebAssembly');
    return;
  }
  worker = new Worker('worker.js');
  worker.onmessage = (ev) => {
    const m = ev.data;
    if (m.type === 'ready') {
      onLocalReady(m);
      return;
    }
    const w = m.id && waiting.get(m.id);
    if (w) {
      waiting.delete(m.id);
      if (m.type === 'error') w.reject(new Error(m.message));
      else w.resolve(m);
    } else if (m.type === 'error') {
      if (m.stage === 'init' && !state.localReady) fallBackToServer(m.message);
      else setStatus(`Recogniser error: ${m.message}`, true);
    }
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    fallBackToServer(ev.message || 'worker failed');
  };
  worker.postMessage({ type: 'init', adopted: localStorage.getItem('digitpad.linked') === '1' });
}

function onLocalReady(m) {
  state.model = m.model;
  state.localReady = true;
  stats.load = m;
  $('model-info').textContent = `Model ${m.model.name} (${m.model.sha256.slice(0, 12)})`;
  markReady();
}

// where says which recogniser handles the next request: 'server', 'local' or '' (none yet).
function where() {
  const serverUp = link && link.state === 'open';
  if (state.preferServer && serverUp) return 'server';
  if (state.localReady) return 'local';
  return serverUp ? 'server' : '';
}

function markReady() {
  const w = where();
  if (!w) return;
  if (stats.readyMs === null) stats.readyMs = performance.now() - stats.start;
  document.body.dataset.ready = '1';
  document.body.dataset.recogniser = w;
  setStatus(w === 'server' ? 'Ready — recognising on the server' : 'Ready — write a postal code');
  registerServiceWorker();
  if (state.strokes.length) scheduleRecognise(0);
}

function fallBackToServer(why) {
  state.preferServer = true;
  if (link) {
    setStatus(`Local recogniser unavailable (${why}); using the server.`);
    link.whenOpen().then(markReady);
    return;
  }
  setStatus(`The recogniser could not start: ${why}`, true);
}

function flatten(strokes) {
  let n = 0;
  for (const s of strokes) n += s.length;
  const points = new Float32Array(2 * n);
  const ends = new Uint32Array(strokes.length);
  let k = 0;
  strokes.forEach((s, i) => {
    for (const p of s) { points[2 * k] = p[0]; points[2 * k + 1] = p[1]; k++; }
    ends[i] = k;
  });
  return { points, ends };
}

function scheduleRecognise(delay) {
  clearTimeout(state.timer);
  setPending(true);
  state.timer = setTimeout(recognise, delay);
}

// recognise reads the pad's ink with the recogniser where() picks (force: 'local' or 'server' instead).
async function recognise(force) {
  const seq = ++state.seq;
  if (!state.strokes.length) {
    showResult(null, seq);
    return;
  }
  if (await scratchOut()) return;
  const w = force || where();
  if (!w) return; // markReady recognises what is already drawn
  const t0 = performance.now();
  const format = formatSel.value;
  try {
    let res;
    if (w === 'server') {
      res = await link.request('predict', {
        strokes: state.strokes.map((s) => s.map((p) => [p[0], p[1]])),
        width: Math.round(state.cssW), height: Math.round(state.cssH), format,
        inputs: true, // the 28×28 inputs go into the feedback record
      });
    } else {
      const { points, ends } = flatten(state.strokes);
      const reply = await callWorker({ type: 'strokes', points, ends, width: state.cssW, height: state.cssH, format },
        [points.buffer, ends.buffer]);
      res = reply.result;
      stats.lastWorkerMs = reply.workerMs;
      stats.lastGoMs = res.ms;
    }
    stats.lastRoundTripMs = performance.now() - t0;
    stats.results++;
    if (stats.firstResultMs === null) stats.firstResultMs = performance.now() - stats.start;
    $('timing').textContent = `recognised in ${stats.lastRoundTripMs.toFixed(1)} ms`;
    if (res.error) {
      if (res.error.code !== 'no_ink') setStatus(`Could not recognise: ${res.error.message}`, true);
      showResult(null, seq);
      return;
    }
    showResult(res, seq);
  } catch (e) {
    if (e.code === 'no_ink') { showResult(null, seq); return; }
    setStatus(`Could not recognise: ${e.message}`, true);
    if (seq === state.seq) setPending(false);
  }
}

// ---------- result display and corrections ----------
// The code on screen is Go's recognize.Review (through the worker's clerk()): slots (the digits as they will be
// confirmed: recognised, corrected, inserted or typed), the recogniser's digits the clerk deleted, the fixes to
// keep, and the verdict of recognize.CheckConfirm.
function labels() {
  return state.view ? state.view.slots.map((s) => s.digit) : [];
}

// clerk asks Go (wasm/bridge Clerk) how the result reads with the clerk's fixes, deletions, insertions and
// an optional edit (or the typed code), and whether it may be confirmed.
async function clerk(input) {
  if (!worker) { // no WebAssembly: the server's reading and its Go verdict (format_error, confirm); no edits
    const res = state.result;
    const digits = input.digits || [];
    const doubtful = (res && res.confirm) || [];
    const formatError = res && res.format_error;
    const ok = !formatError && (!doubtful.length || input.anyway);
    return { code: digits.map((d) => d.digit).join(''), fixes: [],
      slots: digits.map((d, i) => ({ digit: d.digit, index: i, fixed: false, box: d.box, fix: -1 })),
      verdict: { ok, format: !!formatError, doubtful, reason: formatError || (ok ? '' : 'check the flagged digits or confirm anyway') } };
  }
  const reply = await callWorker({ type: 'clerk', input });
  if (reply.result.error) throw new Error(reply.result.error.message);
  return reply.result;
}

function showResult(res, seq) {
  if (seq !== state.seq) return; // a newer request is on its way
  state.result = res;
  refreshView();
}

// refreshView asks Go for the code on screen; edit ({op, at, digit}) changes it first (Review.Set, Delete,
// Insert) and the fixes Go returns become the pad's.
async function refreshView(edit) {
  const vseq = ++state.viewSeq;
  const res = state.result;
  let view = null;
  const typed = state.typed !== null;
  if (typed || (res && res.digits.length)) {
    try {
      view = await clerk({
        digits: res ? res.digits.map((d) => ({ digit: d.digit, confidence: d.confidence, probs: d.probs, box: d.box })) : [],
        confirm: (res && res.confirm) || [], fixes: state.fixes, format: formatSel.value, anyway: state.anyway,
        ...(typed ? { typed: state.typed } : {}), ...(edit ? { edit } : {}),
      });
    } catch (e) {
      setStatus(`Could not change the code: ${e.message}`, true);
      if (edit) { setPending(false); return null; }
    }
  }
  if (vseq !== state.viewSeq) return null;
  state.view = view;
  if (view && !view.typed) state.fixes = view.fixes;
  const picking = !picker.hidden && view && !view.typed && state.selected < view.slots.length;
  if (!picking) closePicker(false);
  setPending(false);
  render();
  if (picking) fillPicker(state.selected);
  clearTimeout(state.pauseTimer);
  if (view && view.verdict.format && !state.showFormat) {
    state.pauseTimer = setTimeout(() => { state.showFormat = true; render(); }, PAUSE_MS);
  }
  return view;
}

const TAG_GAP = 2;

function render() {
  const view = state.view;
  const res = view && !view.typed ? state.result : null;
  const ls = labels();
  codeEl.textContent = ls.join('');
  codeEl.classList.toggle('typed', !!(view && view.typed));
  const v = view ? view.verdict : null;
  // The reason a confirm is blocked is shown once, beside the code: the format after a pause or a refused
  // confirm, the doubtful digits at once.
  formatErrEl.textContent = v && v.format && state.showFormat ? v.reason : '';
  $('doubt').textContent = v && !v.ok && !v.format ? v.reason : '';
  $('confirm-anyway').hidden = !(v && !v.ok && !v.format && v.doubtful && v.doubtful.length);
  boxesEl.replaceChildren();
  if (res) {
    const low = new Set(res.confirm || []);
    for (const i of view.deleted || []) { // deleted digits stay visible, struck out; Undo brings them back
      const [x0, y0, x1, y1] = res.digits[i].box;
      const el = document.createElement('span');
      el.className = 'gone';
      el.setAttribute('data-testid', 'deleted-digit');
      el.style.left = `${x0}px`; el.style.top = `${y0}px`;
      el.style.width = `${Math.max(8, x1 - x0)}px`; el.style.height = `${Math.max(8, y1 - y0)}px`;
      boxesEl.append(el);
    }
    view.slots.forEach((slot, k) => {
      const inserted = slot.index < 0;
      const d = inserted ? null : res.digits[slot.index];
      let [x0, y0, x1, y1] = slot.box;
      if (inserted) { // no ink: a narrow box where it stands, in the gap beside its neighbours, never over them
        const prev = view.slots[k - 1], next = view.slots[k + 1];
        const lo = prev ? prev.box[2] + 4 : -Infinity, hi = next ? next.box[0] - 4 : Infinity;
        const mid = (x0 + x1) / 2;
        x0 = Math.max(mid - 10, lo); x1 = Math.min(mid + 10, hi);
        if (x1 - x0 < 12) { x0 = Math.max(mid - 6, lo); x1 = x0 + 12; } // no room: beside the left one
      }
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'digit';
      b.setAttribute('data-testid', 'digit');
      b.dataset.index = String(k);
      b.dataset.digit = String(slot.digit);
      const corrected = !inserted && slot.fixed && slot.digit !== d.digit;
      const checked = !inserted && slot.fixed && !corrected;
      const needs = !inserted && low.has(slot.index) && !slot.fixed;
      const pct = inserted ? 0 : Math.round(d.confidence * 100);
      if (!inserted) {
        b.dataset.predicted = String(d.digit);
        b.dataset.confidence = d.confidence.toFixed(4);
      }
      b.classList.toggle('low', needs);
      b.classList.toggle('corrected', corrected);
      b.classList.toggle('checked', checked);
      b.classList.toggle('inserted', inserted);
      b.classList.toggle('selected', k === state.selected);
      b.setAttribute('aria-label', `Digit ${k + 1}: ${slot.digit}` +
        (inserted ? ', inserted by you' : corrected ? `, corrected from ${d.digit}` : `, confidence ${pct} percent`) +
        (needs ? ', please confirm' : '') + (checked ? ', checked' : ''));
      b.style.left = `${x0}px`;
      b.style.top = `${y0}px`;
      b.style.width = `${Math.max(8, x1 - x0)}px`;
      b.style.height = `${Math.max(8, y1 - y0)}px`;
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.setAttribute('data-testid', 'tag');
      tag.setAttribute('aria-hidden', 'true');
      tag.textContent = inserted ? `${slot.digit} +` : corrected ? `${slot.digit} ✎` : checked ? `${slot.digit} ✓` :
        needs ? `${slot.digit}? ${pct}%` : `${slot.digit} · ${pct}%`;
      b.append(tag);
      b.addEventListener('click', (ev) => { if (ev.detail === 0) openPicker(k); }); // keyboard activation
      b.addEventListener('keydown', (ev) => onDigitKey(ev, k));
      boxesEl.append(b);
    });
    layoutTags();
  }
  renderTyping();
  updateButtons();
}

// layoutTags places each digit's tag above or below its box so that no two tags overlap and every tag stays
// on the pad: the first free place among rows above and below the box, sliding sideways when a neighbour's
// tag is in the way (tightly written codes).
function layoutTags() {
  const W = state.cssW, H = state.cssH;
  const placed = [];
  const free = (r) => !placed.some((p) => r.x < p.x + p.w + TAG_GAP && p.x < r.x + r.w + TAG_GAP &&
    r.y < p.y + p.h + TAG_GAP && p.y < r.y + r.h + TAG_GAP);
  for (const b of boxesEl.querySelectorAll('.digit')) {
    const tag = b.querySelector('.tag');
    const w = tag.offsetWidth, h = tag.offsetHeight;
    const bx = parseFloat(b.style.left), by = parseFloat(b.style.top);
    const bw = parseFloat(b.style.width), bh = parseFloat(b.style.height);
    const clampX = (x) => Math.max(0, Math.min(W - w, x));
    const clampY = (y) => Math.max(0, Math.min(H - h, y));
    const rows = [by - h, by + bh, by - 2 * h - TAG_GAP, by + bh + h + TAG_GAP, by + (bh - h) / 2].map(clampY);
    const x0 = bx + bw / 2 - w / 2;
    let spot = null;
    for (let shift = 0; shift <= W && !spot; shift += 4) {
      for (const y of rows) {
        for (const x of shift ? [clampX(x0 + shift), clampX(x0 - shift)] : [clampX(x0)]) {
          if (free({ x, y, w, h })) { spot = { x, y, w, h }; break; }
        }
        if (spot) break;
      }
    }
    spot = spot || { x: clampX(x0), y: rows[0], w, h };
    placed.push(spot);
    // The tag is positioned inside the button's border box.
    tag.style.left = `${spot.x - bx - b.clientLeft}px`;
    tag.style.top = `${spot.y - by - b.clientTop}px`;
  }
}

function onDigitKey(ev, i) {
  if (/^[0-9]$/.test(ev.key)) {
    ev.preventDefault();
    correct(i, Number(ev.key));
  } else if (ev.key === 'Delete' || ev.key === 'Backspace') {
    ev.preventDefault();
    editCode({ op: 'delete', at: i });
  } else if (ev.key === 'Insert' || ev.key === '+') {
    ev.preventDefault();
    openPicker(i, 'after');
  } else if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
    ev.preventDefault();
    focusDigit(i + (ev.key === 'ArrowRight' ? 1 : -1));
  }
}

function focusDigit(i) {
  const els = boxesEl.querySelectorAll('.digit');
  if (els.length) els[Math.max(0, Math.min(els.length - 1, i))].focus();
}

// editCode makes one edit of the code through Go (recognize.Review.Set, Delete, Insert): an action Undo can
// take back.
async function editCode(edit) {
  if (!state.view || state.view.typed) return;
  const before = state.view;
  remember();
  setPending(true); // until Go has applied the edit
  const view = await refreshView(edit);
  if (!view) { state.history.pop(); return; }
  const code = labels().join('');
  const n = edit.at + 1;
  if (edit.op === 'delete') {
    setStatus(`Digit ${n} deleted. Code ${code}.`);
    focusDigit(edit.at);
  } else if (edit.op === 'insert') {
    setStatus(`Digit ${edit.digit} inserted as digit ${n}. Code ${code}.`);
    focusDigit(edit.at);
  } else {
    const same = edit.digit === before.slots[edit.at].digit;
    setStatus(same ? `Digit ${n} checked: ${edit.digit}. Code ${code}.` : `Digit ${n} set to ${edit.digit}. Code ${code}.`);
    focusDigit(edit.at);
  }
}

// correct records the clerk's decision that digit i is `digit` (the same digit: checked).
function correct(i, digit) { return editCode({ op: 'set', at: i, digit }); }

// ---------- typing the code (no ink needed) ----------
// A typed code replaces the ink's reading (recognize.ReviewTyped: the same format rule); its record carries no
// ink and no inputs (protocol.Confirmation.Typed), so it never becomes training data for ink it does not
// describe.
const typeBox = $('typing');
const typeInput = $('type-code');
function renderTyping() {
  const on = state.typed !== null;
  typeBox.hidden = !on;
  $('type-toggle').setAttribute('aria-expanded', String(on));
  $('type-toggle').textContent = on ? 'Use the ink' : 'Type the code';
  if (on && typeInput.value !== state.typed) typeInput.value = state.typed;
}

function startTyping() {
  if (state.typed !== null) return;
  remember();
  state.typed = labels().join(''); // start from what is read now: the clerk edits it
  closePicker(false);
  renderTyping(); // shown now, so the keyboard goes to the field at once
  typeInput.focus();
  setPending(true);
  refreshView();
}

function stopTyping() {
  if (state.typed === null) return;
  remember();
  state.typed = null;
  setPending(true);
  refreshView();
  canvas.focus();
}

function setTyped(text) {
  state.typed = text.replace(/[^0-9]/g, '').slice(0, 32);
  state.anyway = false;
  state.showFormat = false;
  setPending(true);
  refreshView();
}

$('type-toggle').addEventListener('click', () => (state.typed === null ? startTyping() : stopTyping()));
typeInput.addEventListener('input', () => setTyped(typeInput.value));
typeInput.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') { ev.preventDefault(); confirmBtn.click(); }
  else if (ev.key === 'Escape') { ev.preventDefault(); stopTyping(); }
});
for (const k of $('numpad').querySelectorAll('button')) {
  k.addEventListener('click', () => {
    const key = k.dataset.key;
    if (key === 'back') setTyped((state.typed || '').slice(0, -1));
    else setTyped((state.typed || '') + key);
  });
}

// ---------- undo / redo: strokes, corrections, deletions, insertions and typing alike ----------
function snapshot() { return { strokes: state.strokes.slice(), fixes: state.fixes.slice(), typed: state.typed }; }

// remember saves the pad before an action so Undo can return to it.
function remember() {
  state.history.push(snapshot());
  if (state.history.length > 200) state.history.shift();
  state.future = [];
  state.anyway = false;
}

function restore(snap) {
  const sameInk = snap.strokes.length === state.strokes.length && snap.strokes.every((s, i) => s === state.strokes[i]);
  state.strokes = snap.strokes;
  state.fixes = snap.fixes;
  state.typed = snap.typed;
  state.anyway = false;
  closePicker(false);
  redraw();
  if (sameInk) { setPending(true); refreshView(); } else scheduleRecognise(0);
}

function undo() {
  if (!state.history.length) return;
  state.future.push(snapshot());
  restore(state.history.pop());
  setStatus('Undone.');
}

function redo() {
  if (!state.future.length) return;
  state.history.push(snapshot());
  restore(state.future.pop());
  setStatus('Redone.');
}

// scratchOut asks Go (ink.ScratchOut) whether the last stroke scribbles over ink; if so the scribble and the
// strokes it covers are erased (Undo brings them back).
async function scratchOut() {
  if (!worker || state.strokes.length < 2) return false;
  const strokes = state.strokes;
  const { points, ends } = flatten(strokes);
  let reply;
  try {
    reply = await callWorker({ type: 'scratch', points, ends }, [points.buffer, ends.buffer]);
  } catch { return false; }
  const erase = reply.result && reply.result.erase;
  if (!erase || !erase.length || strokes !== state.strokes) return false;
  const gone = new Set(erase);
  state.strokes = strokes.filter((_, i) => !gone.has(i));
  redraw();
  setStatus(`Scratched out ${erase.length - 1} stroke${erase.length === 2 ? '' : 's'}. Undo brings them back.`);
  scheduleRecognise(0);
  return true;
}

// ---------- the picker: correct, delete or insert a digit ----------
// mode 'set' corrects digit i; 'before' / 'after' picks a digit to insert next to it.
const pickerKeys = $('picker-keys');
for (let d = 0; d <= 9; d++) {
  const k = document.createElement('button');
  k.type = 'button';
  k.textContent = String(d);
  k.setAttribute('data-testid', `pick-${d}`);
  k.addEventListener('click', () => pick(d));
  pickerKeys.append(k);
}

function pick(d) {
  const i = state.selected, mode = state.pickMode;
  closePicker(false);
  if (mode === 'set') correct(i, d);
  else editCode({ op: 'insert', at: mode === 'before' ? i : i + 1, digit: d });
}

// fillPicker shows digit i's likeliest readings (from Go) as big buttons, the current reading first, and the
// actions that fix a segmentation error: delete the digit, insert one before or after it.
function fillPicker(i) {
  const mode = state.pickMode;
  const slot = state.view.slots[i];
  const alts = $('picker-alts');
  alts.replaceChildren();
  $('picker-edit').hidden = mode !== 'set';
  for (const k of pickerKeys.querySelectorAll('button')) {
    k.setAttribute('aria-label', mode === 'set' ? `Set to ${k.textContent}` : `Insert ${k.textContent}`);
  }
  if (mode !== 'set') {
    $('picker-title').textContent = `New digit ${mode} digit ${i + 1} — pick it:`;
    return;
  }
  $('picker-title').textContent = `Digit ${i + 1} is ${slot.digit} — pick the right one:`;
  for (const d of slot.top || []) {
    const k = document.createElement('button');
    k.type = 'button';
    k.className = 'alt';
    k.textContent = d === slot.digit ? `${d} ✓` : String(d);
    k.setAttribute('data-testid', `alt-${d}`);
    k.setAttribute('aria-label', d === slot.digit ? `Keep ${d}` : `Set to ${d}`);
    k.addEventListener('click', () => { closePicker(false); correct(i, d); });
    alts.append(k);
  }
}
$('picker-close').addEventListener('click', () => closePicker(true));
$('pick-delete').addEventListener('click', () => { const i = state.selected; closePicker(false); editCode({ op: 'delete', at: i }); });
$('pick-before').addEventListener('click', () => openPicker(state.selected, 'before'));
$('pick-after').addEventListener('click', () => openPicker(state.selected, 'after'));
picker.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') { ev.preventDefault(); closePicker(true); }
  else if (/^[0-9]$/.test(ev.key)) { ev.preventDefault(); pick(Number(ev.key)); }
});

function openPicker(i, mode = 'set') {
  if (!state.view || state.view.typed || i >= state.view.slots.length) return;
  state.selected = i;
  state.pickMode = mode;
  fillPicker(i);
  picker.hidden = false;
  render();
  const keys = pickerKeys.querySelectorAll('button');
  (mode === 'set' ? keys[state.view.slots[i].digit] : keys[0]).focus();
}

function closePicker(refocus) {
  if (picker.hidden) return;
  const i = state.selected;
  picker.hidden = true;
  state.selected = -1;
  boxesEl.querySelectorAll('.digit.selected').forEach((b) => b.classList.remove('selected'));
  if (refocus) focusDigit(i);
}

// ---------- buttons ----------
function updateButtons() {
  // Undo, redo and clear stay enabled (a no-op on an empty pad) so they never trap keyboard focus or a test.
  const v = state.view && state.view.verdict;
  confirmBtn.disabled = !v || document.body.dataset.pending === '1';
  // Why a confirm would be refused is read out with the button (a blocked confirm stays pressable).
  if (v && !v.ok) confirmBtn.setAttribute('aria-describedby', 'format-error doubt');
  else confirmBtn.removeAttribute('aria-describedby');
  // A blocked confirm stays pressable: pressing it says why (the format, the doubtful digits) in words.
  confirmBtn.classList.toggle('blocked', !(v && v.ok));
  document.body.dataset.confirmable = v && v.ok ? '1' : '0';
}

function clearPad() {
  state.strokes = [];
  state.result = null;
  state.view = null;
  state.fixes = [];
  state.anyway = false;
  state.showFormat = false;
  state.typed = null;
  closePicker(false);
  redraw();
  scheduleRecognise(0);
}

$('undo').addEventListener('click', undo);
$('redo').addEventListener('click', redo);
$('clear').addEventListener('click', () => { if (state.strokes.length || state.typed !== null) remember(); clearPad(); canvas.focus(); });
document.addEventListener('keydown', (ev) => {
  const k = ev.key.toLowerCase();
  if ((ev.ctrlKey || ev.metaKey) && (k === 'z' || k === 'y')) {
    ev.preventDefault();
    if (k === 'y' || ev.shiftKey) redo(); else undo();
  } else if (ev.key === 'Enter' && (ev.target === canvas || ev.target === document.body)) {
    ev.preventDefault();
    confirmBtn.click();
  }
});
$('confirm-anyway').addEventListener('click', () => { state.anyway = true; refreshView().then(() => confirmBtn.click()); });

// ---------- confirm -> outbox ----------
let outbox = null;
let outboxSync = null;
const outboxReady = Outbox.open().then((o) => {
  outbox = o;
  o.onChange((n) => { $('outbox-count').textContent = String(n); sync.pending = n; renderSync(); refreshRecent(); });
  o.notify();
  return o;
}).catch((e) => { setStatus(`Outbox unavailable: ${e.message}`, true); });

// feedbackRecord has Go build the record (protocol.NewFeedback through the wasm bridge, as the kiosk does): the
// ink PNG from the strokes, the inputs and digits from the result shown (local or the server's). In server
// mode the worker starts here, so records are built the same way there. A browser without WebAssembly only
// names the server's prediction, which holds the digits (protocol.Feedback allows that); nothing is computed.
// A typed code's record and one whose digits were deleted or inserted are built by the same Go rule
// (protocol.Confirmation.Typed, Edited): no inputs, and for a typed code no ink.
async function feedbackRecord(res, labels, { typed = false, edited = false } = {}) {
  if (typeof WebAssembly !== 'object') {
    return { idempotency_key: crypto.randomUUID(), client_id: clientID(), labels,
      ...(res && !typed && !edited ? { prediction_id: res.id } : {}), created_at: new Date().toISOString() };
  }
  startWorker();
  const { points, ends } = flatten(typed ? [] : state.strokes);
  const reply = await callWorker({
    type: 'feedback', points, ends, width: state.cssW, height: state.cssH,
    confirmation: { idempotency_key: crypto.randomUUID(), client_id: clientID(), labels, created_at: Date.now(),
      prediction: res || {}, typed, edited },
  }, [points.buffer, ends.buffer]);
  if (reply.result.error) throw new Error(reply.result.error.message);
  return reply.result.record;
}

confirmBtn.addEventListener('click', async () => {
  const res = state.result;
  const view = state.view;
  const v = view && view.verdict;
  if (!outbox || !v || document.body.dataset.pending === '1') return;
  if (!v.ok) { // the Go gate said no: the reason is shown once, beside the code; keep the code on the pad
    state.showFormat = true;
    render();
    setStatus('Not confirmed — see beside the code.', true);
    return;
  }
  confirmBtn.disabled = true;
  try {
    const ls = labels();
    const code = ls.join('');
    const record = await feedbackRecord(res, ls, { typed: !!view.typed, edited: !!view.edited });
    await outbox.add(record);
    addRecent(record.idempotency_key, code);
    document.body.dataset.lastConfirmed = code;
    setStatus(`Code ${code} confirmed and saved.`);
    clearPad();
    state.history = [];
    state.future = [];
    canvas.focus(); // the confirm button is disabled now; keep keyboard users at the pad
    if (outboxSync) outboxSync.kick();
  } catch (e) {
    setStatus(`Could not save the code: ${e.message}`, true);
  } finally {
    updateButtons();
  }
});

$('download').addEventListener('click', async () => {
  if (!outbox) return;
  const records = await outbox.all();
  const blob = new Blob([JSON.stringify(records, null, 1)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `digitpad-outbox-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
});

// ---------- sync state, enrolment, recent codes ----------
// sync is what the chip on the main screen shows: always the truth about where confirmed codes are.
const sync = { server: false, link: 'closed', refused: null, pending: 0 };
function renderSync() {
  const el = $('sync');
  const n = sync.pending;
  const waiting = n ? ` · ${n} pending` : '';
  let kind, text;
  if (!sync.server) { kind = 'local'; text = `Saved on this device only${waiting}`; }
  else if (sync.refused) { kind = 'refused'; text = `Sync refused: ${sync.refused}${waiting}`; }
  else if (sync.link !== 'open') { kind = 'offline'; text = `Offline${waiting}`; }
  else if (n) { kind = 'syncing'; text = `Syncing${waiting}`; }
  else { kind = 'synced'; text = 'Synced'; }
  el.dataset.sync = kind;
  el.textContent = `● ${text}`;
  $('enrol').hidden = !(sync.server && sync.refused);
}

function onSyncStatus(text, err) {
  if (err && (err.code === 'unauthorized' || err.code === 'forbidden')) {
    sync.refused = 'this pad is not enrolled';
  } else if (!err) {
    sync.refused = null;
  }
  if (text) $('sync-status').textContent = `(${text})`;
  renderSync();
  refreshRecent();
}

$('enrol').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const code = $('enrol-code').value.trim();
  const msg = $('enrol-msg');
  msg.textContent = 'Enrolling…';
  try {
    const r = await fetch(new URL('/v1/devices/enrol', location.href), {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code, name: `pad ${clientID().slice(0, 8)}` }),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || body.message || `HTTP ${r.status}`);
    await putSetting('device', { id: body.device_id, credential: body.credential });
    msg.textContent = '';
    $('enrol-code').value = '';
    setStatus(`This pad is enrolled as ${body.device_id}.`);
    sync.refused = null;
    renderSync();
    if (link) link.reconnect(await linkProtocols());
  } catch (e) {
    msg.textContent = `Not enrolled: ${e.message}`;
  }
});

// Recent codes: the last few confirmed on this pad, with where each is (pending in the outbox, sent, refused).
const RECENT_MAX = 5;
let recent = [];
try { recent = JSON.parse(localStorage.getItem('digitpad.recent') || '[]'); } catch { recent = []; }
function saveRecent() { localStorage.setItem('digitpad.recent', JSON.stringify(recent)); }
function addRecent(key, code) {
  recent.unshift({ key, code, state: 'pending' });
  recent = recent.slice(0, RECENT_MAX);
  saveRecent();
  refreshRecent();
}

// Each recent code is pending (in the outbox, never handed to the socket), sending (handed to the socket, no
// acknowledgement yet), sent, refused (the server refused this pad: it stays in the outbox) or withdrawn.
async function refreshRecent() {
  if (!outbox) return;
  const states = await outbox.states();
  for (const r of recent) {
    if (r.state === 'withdrawn') continue;
    const st = states.get(r.key);
    r.state = !st ? 'sent' : st === 'pending' && sync.refused ? 'refused' : st;
  }
  saveRecent();
  const ol = $('recent');
  ol.replaceChildren(...recent.map((r) => {
    const li = document.createElement('li');
    li.dataset.state = r.state;
    li.setAttribute('data-testid', 'recent-code');
    li.textContent = `${r.code} · ${r.state}`;
    return li;
  }));
  $('unconfirm').hidden = !(recent.length && (recent[0].state === 'pending' || recent[0].state === 'refused'));
}

// Undo last confirm takes the code back only while no byte of it has left the pad (Outbox.withdraw); once it
// is on its way it says so and the code stays confirmed.
$('unconfirm').addEventListener('click', async () => {
  const r = recent[0];
  if (!r || !outbox) return;
  const out = await outbox.withdraw(r.key);
  if (out === 'withdrawn') {
    r.state = 'withdrawn';
    saveRecent();
    setStatus(`Code ${r.code} withdrawn; it will not be sent.`);
  } else {
    setStatus(`Code ${r.code} was already sent; it cannot be withdrawn here.`, true);
  }
  refreshRecent();
});

// linkProtocols carries the device credential in the websocket handshake's Sec-WebSocket-Protocol header
// (browsers cannot set Authorization on a websocket), never in the URL.
async function linkProtocols() {
  const dev = await getSetting('device').catch(() => null);
  return dev && dev.credential ? ['digitpad', `digitpad.bearer.${dev.credential}`] : ['digitpad'];
}

// ---------- server link, service worker, start ----------
async function loadConfig() {
  try {
    const r = await fetch('config.json', { cache: 'no-cache' });
    if (r.ok) {
      const cfg = await r.json();
      if (cfg.pen) { pen = cfg.pen; redraw(); }
      return cfg;
    }
  } catch { /* offline without a cached config: no server */ }
  return {};
}

// adoptServerModel swaps the worker to the model the server announces, so browser and server agree. The worker
// loads the announced graph file (graph_url; the wasm has no ONNX decoder) and verifies it against graph_sha256
// and the model's identity (sha256). The model's card (card_url: GET /v1/canary/model for a canary client, else
// GET /v1/model) goes with it: Go configures the recogniser from a card by one rule (recognize.Calibration), the
// manifest's card at start and this one now.
async function adoptServerModel(m) {
  if (!worker || !m.graph_url || !m.graph_sha256 || !m.sha256) return; // no graph form: keep the current model
  if (!state.model) { setTimeout(() => adoptServerModel(m), 500); return; } // still loading the shipped one
  if (m.sha256 === state.model.sha256) return;
  let card;
  try {
    const r = await fetch(new URL(m.card_url || '/v1/model', location.href), { cache: 'no-cache' });
    if (!r.ok) return;
    const body = await r.json();
    if (body.sha256 !== m.sha256) return; // changed again meanwhile; the next announcement follows
    card = body.card;
  } catch { /* offline between the announcement and now: keep the current model */ return; }
  worker.postMessage({
    type: 'model', url: new URL(m.graph_url, location.href).href, sha256: m.sha256, graph_sha256: m.graph_sha256,
    name: m.name, card,
  });
}

function startLink(cfg) {
  if (!cfg.ws) return;
  const url = new URL(cfg.ws, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  localStorage.setItem('digitpad.linked', '1'); // the worker starts with the server's last model next time
  url.searchParams.set('client_id', clientID()); // names the pad (a websocket cannot carry X-Client-ID): a stable canary choice
  sync.server = true;
  renderSync();
  link = new ServerLink(url.href, {
    onState: (s) => {
      document.body.dataset.link = s;
      sync.link = s;
      renderSync();
      $('sync-status').textContent = s === 'open' ? '(server connected)' : '(server offline)';
      if (s === 'open') {
        if (outboxSync) outboxSync.kick();
        if (state.preferServer) markReady();
      } else if (s === 'closed' && state.preferServer && typeof WebAssembly === 'object') {
        startWorker(); // keep recognising in the browser while the server is away
      }
    },
    onModel: (m) => { state.serverModel = m.sha256; adoptServerModel(m); },
  });
  outboxReady.then(async (o) => {
    if (!o) return;
    outboxSync = new OutboxSync(link, o, onSyncStatus);
    link.protocols = await linkProtocols();
    link.start();
  });
}

let swStarted = false;
function registerServiceWorker() {
  if (swStarted || !('serviceWorker' in navigator)) return;
  swStarted = true;
  navigator.serviceWorker.register('sw.js').then(() => navigator.serviceWorker.ready).then(() => {
    const done = () => { document.body.dataset.offline = '1'; };
    if (navigator.serviceWorker.controller) done();
    else navigator.serviceWorker.addEventListener('controllerchange', done, { once: true });
  }).catch((e) => console.warn('service worker not registered:', e));
}

serverBox.addEventListener('change', () => {
  localStorage.setItem('digitpad.server', serverBox.checked ? '1' : '0');
  location.reload();
});

// For the bench script and the tests: recognise what is on the pad now (where: 'local' or 'server' to choose
// the recogniser), resolving when the result is shown.
window.digitpadRecognizeNow = (where) => recognise(where);

new ResizeObserver(resize).observe(wrap);
// Zooming or moving to another screen changes devicePixelRatio without resizing the element.
(function watchDPR() {
  matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`).addEventListener('change', () => { resize(); watchDPR(); }, { once: true });
})();
resize();
setPending(false);
updateButtons();

(async () => {
  // The worker starts at once, in server mode too: it checks codes for confirmation (Go rules), caches the
  // model and recognises when the server is away.
  startWorker();
  renderSync();
  const cfg = await loadConfig();
  startLink(cfg);
  if (serverBox.checked && link) {
    state.preferServer = true;
    setStatus('Connecting to the server…');
  } else if (serverBox.checked) {
    setStatus('No server configured; recognising in the browser.');
  }
})();
