// Classic one-digit MNIST preprocessing, as the tutorials do it: luma, ink bounding box, scale the box to fit
// 20×20 keeping its aspect (area averaging), paste it into 28×28, shift the centre of mass to (14, 14). Values
// 0..1 with ink = 1, as digitpad's models take them (shared/ink: "values 0..1, ink = 1"; no mean/std).
'use strict';

// INK is the level (0..255, ink up) a pixel must pass to count in the bounding box: anti-aliasing fringe stays out.
const INK = 32;

// toMNIST turns an RGBA image (8 bits a channel) into the model's 784 inputs, or null when it holds no ink.
// Dark ink on a light background and light on dark are both read (the mean luma decides which is ink).
function toMNIST(rgba, w, h) {
  const n = w * h;
  const ink = new Uint8Array(n);
  let sum = 0;
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const a = rgba[j + 3];
    let l = (77 * rgba[j] + 150 * rgba[j + 1] + 29 * rgba[j + 2]) >> 8; // BT.601 luma
    if (a !== 255) l = (a * l + (255 - a) * 255) / 255 | 0; // over white
    ink[i] = l;
    sum += l;
  }
  const dark = sum > 127 * n; // a light background: ink is dark
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0, i = 0; y < h; y++) {
    let rx0 = -1, rx1 = -1;
    for (let x = 0; x < w; x++, i++) {
      const v = dark ? 255 - ink[i] : ink[i];
      ink[i] = v;
      if (v > INK) {
        if (rx0 < 0) rx0 = x;
        rx1 = x;
      }
    }
    if (rx0 >= 0) {
      if (rx0 < x0) x0 = rx0;
      if (rx1 > x1) x1 = rx1;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const s = 20 / Math.max(bw, bh);
  const ow = Math.max(1, Math.round(bw * s)), oh = Math.max(1, Math.round(bh * s));
  const ox = (28 - ow) >> 1, oy = (28 - oh) >> 1;
  const xs = spans(bw, ow), ys = spans(bh, oh);
  // Area averaging, columns first: tmp[y][u] for every crop row y.
  const tmp = new Float32Array(bh * ow);
  for (let y = 0; y < bh; y++) {
    const row = (y0 + y) * w + x0;
    for (let u = 0; u < ow; u++) {
      const { first, wts } = xs[u];
      let acc = 0;
      for (let k = 0; k < wts.length; k++) acc += wts[k] * ink[row + first + k];
      tmp[y * ow + u] = acc;
    }
  }
  const img = new Float32Array(784);
  let m = 0, mx = 0, my = 0;
  for (let v = 0; v < oh; v++) {
    const { first, wts } = ys[v];
    for (let u = 0; u < ow; u++) {
      let acc = 0;
      for (let k = 0; k < wts.length; k++) acc += wts[k] * tmp[(first + k) * ow + u];
      const val = Math.min(1, acc / 255);
      const X = ox + u, Y = oy + v;
      img[Y * 28 + X] = val;
      m += val;
      mx += val * X;
      my += val * Y;
    }
  }
  if (m === 0) return null;
  const dx = Math.round(14 - mx / m), dy = Math.round(14 - my / m);
  if (dx === 0 && dy === 0) return img;
  const out = new Float32Array(784);
  for (let Y = 0; Y < 28; Y++) {
    const sy = Y - dy;
    if (sy < 0 || sy >= 28) continue;
    for (let X = 0; X < 28; X++) {
      const sx = X - dx;
      if (sx >= 0 && sx < 28) out[Y * 28 + X] = img[sy * 28 + sx];
    }
  }
  return out;
}

// spans maps each of m output cells to the n source pixels it covers, with weights summing to 1 (box filter).
function spans(n, m) {
  const r = n / m;
  const out = [];
  for (let u = 0; u < m; u++) {
    const a = u * r, b = (u + 1) * r;
    const first = Math.floor(a), last = Math.min(n, Math.ceil(b));
    const wts = new Float32Array(last - first);
    for (let i = first; i < last; i++) wts[i - first] = (Math.min(b, i + 1) - Math.max(a, i)) / r;
    out.push({ first, wts });
  }
  return out;
}

module.exports = { toMNIST };
