package main

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

// canvasSubset is how many MNIST test digits the canvas test reads per canvas style: all 10,000, so one digit is
// 0.01 point and the 0.2-point budget is 20 digits (about 45 s of CPU for the five styles). On the first
// 1,500 one digit was 0.07 point, and two models equal on the whole set differed by 0.1 point there.
const canvasSubset = 10000

// Bounds of the canvas check. The goal is 0.2 points and no split digit. History: session 4's model lost
// 0.40–0.53 points on the first 1,500 test digits (the first 600 digits at 280×280 read 97.5% before issue 12's
// changes); on all 10,000, session 5's model lost 0.43–0.50. Session 6 offers flat digits whole (a 5 with a
// detached bar read "577"), keeps faint ink (contrast floor 1/20 of the core) and ships the stage-4 model: raw
// 99.65%, as canvases 99.42% (280×280 RGB), 99.43% (76×64 grey), 99.42% (120×100 inverse), 99.41% (320×96 grey),
// 99.42% (56×56 inverse) — gaps 0.22–0.24 points, 10–13 digits of the wrong count per style. The pipeline is
// deterministic: the bounds leave a few digits of slack. Tighten them as the pipeline improves. Session 11 weighs
// the whole against a split of two by a logistic model fitted on validation (recognize.wholeWins): 99.45% at
// 280×280 RGB, 76×64 grey, 120×100 inverse and 320×96 grey, 99.42% at 56×56 inverse (raw 99.63%) — gaps
// 0.18–0.21 points, 5–8 digits of the wrong count per style. Session 13's second reader (recognize.SecondReader,
// consulted on digits below 0.99) lifts raw to 99.66% and moves the canvases by a few digits either way: on MNIST
// test 280×280 RGB 99.45 → 99.39%, 76×64 grey 99.45 → 99.46%, 120×100 inverse 99.45 → 99.44%; on the validation
// split (mnist-val, 5,000) 280×280 RGB 99.48 → 99.58%, 76×64 grey 99.54 → 99.48%. Single digits gain nothing
// measurable from it, so it reads codes only (recognize.secondMinDigits) and this check reads as before.
const (
	maxCanvasGapPoints   = 0.25
	minCanvasAccuracyPct = 99.38
	maxCanvasSplits      = 11
)

// TestEval_MNISTAsCanvasMatchesRaw is the image pipeline's accuracy check: MNIST test digits drawn as canvases of
// several sizes and polarities and read through polarity detection, the ink mask, segmentation and
// normalisation must come out close to the same digits given to the model as raw 28×28 inputs, with (almost) none
// split into several digits.
func TestEval_MNISTAsCanvasMatchesRaw(t *testing.T) {
	evalJSON := func(args ...string) evalResult {
		t.Helper()
		out, errOut, err := mustRun(t, append([]string{"eval", "--json", "--limit", fmt.Sprint(canvasSubset)}, args...)...)
		if err != nil {
			t.Fatalf("eval %v: %v\n%s", args, err, errOut)
		}
		var r evalResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("eval %v: %v in %q", args, err, out)
		}
		if r.N != canvasSubset {
			t.Fatalf("eval %v read %d digits, want %d", args, r.N, canvasSubset)
		}
		return r
	}
	raw := evalJSON()
	for _, canvas := range []string{"280x280:rgb", "76x64:grey", "120x100:inverse", "320x96:grey", "56x56:inverse"} {
		t.Run(canvas, func(t *testing.T) {
			got := evalJSON("--canvas", canvas)
			t.Logf("%s: %.2f%% (raw %.2f%%), %d with the wrong digit count", canvas, 100*got.Accuracy, 100*raw.Accuracy, got.Split)
			if d := 100 * (raw.Accuracy - got.Accuracy); d > maxCanvasGapPoints+1e-9 {
				t.Errorf("canvas accuracy %.2f%% is %.2f points below raw %.2f%%", 100*got.Accuracy, d, 100*raw.Accuracy)
			}
			if a := 100 * got.Accuracy; a < minCanvasAccuracyPct {
				t.Errorf("canvas accuracy %.2f%% is below the floor %.2f%%", a, minCanvasAccuracyPct)
			}
			if got.Split > maxCanvasSplits {
				t.Errorf("%d of %d one-digit canvases read as another number of digits", got.Split, got.N)
			}
			if got.Canvas != canvas || math.IsNaN(got.ConfirmRate) {
				t.Errorf("result canvas %q confirm rate %v", got.Canvas, got.ConfirmRate)
			}
		})
	}
}
