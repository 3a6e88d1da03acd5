// Loads each case's model in onnxruntime (CPU) and compares its outputs with digitpad's runtime (the case's
// "output", written by golden/main.go). Exits non-zero on any load failure or mismatch.
//
//   node quantize/ort-check/check.mjs DIR/case*.json
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as ort from 'onnxruntime-node';

let failed = 0;
for (const file of process.argv.slice(2)) {
  const tc = JSON.parse(readFileSync(file, 'utf8'));
  const name = basename(tc.model);
  try {
    const session = await ort.InferenceSession.create(tc.model, { executionProviders: ['cpu'] });
    // One sample per run: some models (the ONNX zoo's) fix the batch dimension to 1.
    const n = tc.shape[0];
    const size = tc.input.length / n;
    const sampleShape = [1, ...tc.shape.slice(1)];
    const got = [];
    for (let s = 0; s < n; s++) {
      const x = new ort.Tensor('float32', Float32Array.from(tc.input.slice(s * size, (s + 1) * size)), sampleShape);
      const res = await session.run({ [session.inputNames[0]]: x });
      got.push(...res[session.outputNames[0]].data);
    }
    if (got.length !== tc.output.length) {
      throw new Error(`onnxruntime gives ${got.length} outputs, digitpad ${tc.output.length}`);
    }
    const per = got.length / n;
    let worst = 0;
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i] - tc.output[i]);
      const allowed = tc.atol + tc.rtol * Math.abs(tc.output[i]);
      worst = Math.max(worst, d / allowed);
      if (!(d <= allowed)) {
        throw new Error(`output[${i}]: onnxruntime ${got[i]}, digitpad ${tc.output[i]} (allowed ${allowed})`);
      }
    }
    for (let s = 0; s < n; s++) {
      const am = (a) => { let b = 0; for (let j = 1; j < per; j++) if (a[s * per + j] > a[s * per + b]) b = j; return b; };
      if (am(got) !== am(tc.output)) {
        throw new Error(`sample ${s}: onnxruntime predicts ${am(got)}, digitpad ${am(tc.output)}`);
      }
    }
    console.log(`ok   ${name}: ${n} samples agree (worst diff ${(worst * 100).toFixed(1)}% of tolerance)`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err.message}`);
  }
}
if (failed > 0) {
  console.log(`${failed} model(s) failed`);
  process.exit(1);
}
