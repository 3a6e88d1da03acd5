// Where do the bytes of app.wasm go? Sums function body sizes per Go package using the wasm "name" section
// (build without -s -w for names) plus the data section. Usage: node web/e2e/wasm-size.mjs app.wasm [top=25]
import { readFileSync } from 'node:fs';

const buf = readFileSync(process.argv[2]);
const top = Number(process.argv[3] || 25);
let pos = 8;
function leb() {
  let result = 0, shift = 0, b;
  do { b = buf[pos++]; result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  return result;
}
function name() { const n = leb(); const s = buf.toString('utf8', pos, pos + n); pos += n; return s; }

let imports = 0; const bodies = []; const names = new Map(); let dataBytes = 0; const sections = {};
while (pos < buf.length) {
  const id = buf[pos++]; const size = leb(); const end = pos + size;
  sections[id] = (sections[id] || 0) + size;
  if (id === 2) { // imports: count function imports, they shift function indexes
    const n = leb();
    for (let i = 0; i < n; i++) {
      name(); name(); const kind = buf[pos++];
      if (kind === 0) { leb(); imports++; } else if (kind === 1) { pos++; const f = buf[pos++]; leb(); if (f & 1) leb(); }
      else if (kind === 2) { const f = buf[pos++]; leb(); if (f & 1) leb(); } else { pos += 2; }
    }
  } else if (id === 10) {
    const n = leb();
    for (let i = 0; i < n; i++) { const s = leb(); bodies.push(s); pos += s; }
  } else if (id === 11) {
    dataBytes = size;
  } else if (id === 0) {
    const nm = name();
    if (nm === 'name') {
      while (pos < end) {
        const sub = buf[pos++]; const ssz = leb(); const send = pos + ssz;
        if (sub === 1) { const n = leb(); for (let i = 0; i < n; i++) { const idx = leb(); names.set(idx, name()); } }
        pos = send;
      }
    }
  }
  pos = end;
}
const byPkg = new Map();
bodies.forEach((s, i) => {
  const fn = names.get(i + imports) || '?';
  // The name section spells import paths with '_' for '/', keeping the dots of a leading domain
  // (gorgonia.org_tensor.__Dense_.Add): skip the domain, then the package ends at the next '.'.
  const dom = /^[a-z0-9-]+(\.[a-z0-9-]+)+_/.exec(fn);
  const from = dom ? dom[0].length : 0;
  const dot = fn.indexOf('.', from);
  const pkg = (dot > 0 ? fn.slice(0, dot) : fn).replaceAll('_', '/');
  byPkg.set(pkg, (byPkg.get(pkg) || 0) + s);
});
const total = bodies.reduce((a, b) => a + b, 0);
console.log(`file ${buf.length} bytes; code ${total}; data ${dataBytes}; functions ${bodies.length}`);
const groups = new Map();
for (const [pkg, s] of byPkg) {
  const g = pkg.startsWith('gorgonia.org/tensor') ? 'gorgonia.org/tensor/...' :
    pkg.startsWith('github.com/apache/arrow') ? 'github.com/apache/arrow/...' :
    pkg.startsWith('gonum.org/v1/gonum') ? 'gonum.org/v1/gonum/...' :
    pkg.startsWith('google.golang.org/protobuf') ? 'google.golang.org/protobuf/...' :
    pkg.startsWith('github.com/gogo/protobuf') ? 'github.com/gogo/protobuf/...' : pkg;
  groups.set(g, (groups.get(g) || 0) + s);
}
console.log('\ncode by module/package group:');
for (const [g, s] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(s / 1024).toFixed(0).padStart(8)} KiB  ${g}`);
