# Recognition quality on the project's own held-out handwriting (issue 12): included from the main Makefile.
#   make eval-pad   writes the evaluation sets with shared/synth's EVALUATION writers (never used for training,
#                   validation or tuning) — clean single digits, unsteady-hand digits, 5-digit codes (a quarter
#                   written tightly) — and reads them with `digitpad eval --json` (accuracy, confirm rate, silent
#                   errors per code and per digit), the same codes from their strokes (what the pad and the
#                   kiosk send: --strokes, pen paths in writing order), then MNIST test raw and drawn as canvases (280x280 RGB,
#                   76x64 grey, white on black). EVAL_VARIANT=int8 for the int8 model; EVAL_PAD_DIR keeps the sets.
# The 7->1 confusion (session 15; shipped fp32 + pair + second reader, the card's threshold; the analysis on fitted
# validation codes, seeds 33-36, 4,000): of 38 7s read as 1, 28 were 7s written as a bar and a stem that do not meet
# (synth.SevenApart) in TIGHT codes: the bar touches the digit before, so it is cut from that digit's group or left
# on it, and the stem, a group of its own, reads a confident 1 (0.96-0.998) — segmentation, not the model (the
# 28x28 input holds only the stem). 6 were one writer's nib (contrast 0.1, a wide pen): the bar is in the digit's
# box but the width normalisation's erosion of the thick stem (shared/ink adjustWidth) erases the hairline bar;
# the rest other shapes. Fixed in shared/ink (lattice.go barJoins: the bar cut from the previous group joined to
# the stem, read from the start). Fitted seeds 33-52 (20,000): 7->1 156 -> 102, exact 94.48 -> 94.73%, asking
# 11.69 -> 11.46%, silent 80 -> 69 codes (76 fixed, 26 broken, mostly a 1, 0 or 2 read as 7). Held out seeds 11-16
# (3,000, once): exact 95.63 -> 95.73%, asking 10.20 -> 10.17%, silent 9 -> 9, 7->1 12 -> 7 (6 fixed, 3 broken).
# MNIST raw (no segmentation) is untouched; as 280x280 canvases (first 1,000) item-identical. The cards were recalibrated
# after the session's merges (README: the table of fitted and held-out rates per reading).
# What was tried is in barJoins' comment. Left: the eroded hairline bar (a thinning that keeps thin strokes).
# Stages 2 to 5 of `make train`: the fine-tuning that made the shipped model (README: The model).
TRAIN_FINETUNE ?= -seed 1 -workers 4 -epochs 1 -lr 1.5e-4 -synth 15000 -synth-val 5000 -canvas 10000
# Stage 3: one more epoch (seed 2: new synthetic digits and canvases) with 15,000 digit crops of 5-digit codes of
# training writers (60% tight) cut by the segmentation and lattice (train.CodeCropSet) and 20,000 canvases.
# Measured on validation against --outliers 4000 (wrong cuts with the uniform target) in the same run: codes
# 85.2 vs 85.1%, clean digits 99.1 vs 98.8%, MNIST train tail as canvases 99.34 vs 99.26% — not shipped.
TRAIN_CODES    ?= -seed 2 -workers 4 -epochs 1 -lr 1e-4 -synth 15000 -synth-val 5000 -canvas 20000 -codes 15000
# Stage 4 (session 6): 40,000 code crops at a lower learning rate, then the weights averaged half and half with
# stage 3's (--wise 0.5, WiSE-FT): the crops alone lift codes but pull MNIST test below 99.6 (99.53-99.57%), the
# average keeps MNIST. Validation writers (seed 11, 1,000 each), stage 3 -> stage 4: codes 85.2 -> 86.5% (13 codes
# fixed, 0 broken), clean digits 99.1 -> 99.1%, unsteady 99.0 -> 99.1%; MNIST test 99.64 -> 99.65% (int8 99.62%).
# Trained with the ink mask's earlier contrast floor (3/20); the floor is 1/20 since, which changes the canvases.
TRAIN_CODES2   ?= -seed 3 -workers 4 -epochs 1 -lr 5e-5 -synth 6000 -synth-val 5000 -canvas 8000 -codes 40000 -wise 0.5
# Stage 5 (session 7): one epoch on 20,000 digits of synthetic training writers of whom half are given a strong
# slant, half a pen that draws hairlines (a strong-contrast nib or a very thin pen) and half a flat-topped 3
# (independently; --synth-slanted/--synth-hairline/--synth-flat3, training writers only), plus 8,000 canvases and
# 15,000 code crops. Validation's clean 3->5 misreads were flat-topped 3s whose diagonal a nib draws as a hairline
# the ink mask loses (a bar over a belly, like a 5); about 20 such 3s were in 15,000 training digits. Validation
# writers (seed 11, 1,000 each; each model with its own calibrated card), stage 4 -> stage 5: clean 99.2 -> 99.7%
# (3->5: 7 -> 2), unsteady 99.4 -> 99.6%, codes 87.3 -> 87.3% (4 fixed, 4 broken), codes asking 24.6 -> 23.5%,
# silent 10 -> 11 codes (all 7->1); MNIST validation 99.62 -> 99.62%. The same data at 40,000 digits (seed 7) read
# clean 99.7% but cost MNIST validation (99.52%; WiSE 0.3-0.7: 99.54-99.58%). Without the rare habits (seed 5,
# 20,000 digits) the 3s stayed (7 -> 7).
# The shipped stage 5 was fine-tuned from the committed stage-4 model (trained with the earlier floor, above).
TRAIN_RARE     ?= -seed 8 -workers 2 -epochs 1 -lr 1e-4 -synth 20000 -synth-slanted 0.5 -synth-hairline 0.5 -synth-flat3 0.5 -synth-val 5000 -canvas 8000 -codes 15000
# Tried in session 12, not shipped (a stage 6 from the shipped model, -wise 0.5, -lr 5e-5; each model calibrated with
# `digitpad calibrate --stroke-codes 0 --stroke-holdout 0` on a copy; stage 5 the same: fitted 15.56%, held out 15.30% / 0.40%):
# (a) -seed 9 -limit 25000 -synth 6000 (rare habits 0.3 each) -canvas 4000 -codes 25000: fitted asking at 0.5% silent
# 14.67%, held out (seeds 11-16) 14.33% / 0.37%; codes seed 11/12 94.9 -> 95.2 / 94.9 -> 94.9%; but flat-topped 3s came
# back as 5s: clean seed 11 99.7 -> 99.4%, unsteady 99.7 -> 99.5%; MNIST test 99.63 -> 99.62%.
# (b) -seed 10 -synth 10000 (rare 0.5) -canvas 6000 -codes 40000: 14.96%, held out 14.63% / 0.50%; clean 99.5%,
# unsteady 99.5%; MNIST test 99.58% (below 99.6).
# Tried in session 13, not shipped: the same stage 6 from the shipped model on all of MNIST, -seed 12 -workers 2
# -epochs 1 -lr 5e-5 -synth 20000 (rare habits 0.5 each) -synth-val 5000 -canvas 8000 -codes 25000, with three WiSE
# shares of the one fine-tune (calibrated and read as above; stage 5: held out 15.30% / 0.40%, clean/unsteady seed 11
# 99.7/99.7%, codes seed 11/12 94.9/94.9%, MNIST validation 99.62%, test 99.63%):
#   -wise 0.3: fitted 15.04%, held out 14.50% / 0.47%; clean/unsteady 99.7/99.7%; codes 95.1/94.8% (2 fixed, 1 broken:
#              32933 read 32932, asked); MNIST val 99.60%, test 99.61% (int8 99.61%), as canvases 99.46/99.43/99.45%.
#   -wise 0.5: 14.84%, held out 14.47% / 0.47%; clean/unsteady 99.6/99.6% (one flat-topped 3 read as 5 in each);
#              codes 95.1/94.8%; MNIST val 99.62%, test 99.62%.
#   -wise 0.7: 14.60%, held out 14.17% / 0.47%; clean/unsteady 99.6/99.6% (the same 3s); codes 95.2/94.9%; MNIST val 99.60%, test 99.62%.
# Every share asks about 0.8 points less on held-out codes (24 of 3,000) but none keeps all of stage 5's validation
# readings: the flat-topped 3s return above a share of 0.3, one code breaks below 0.7 (each a single item of 1,000).
# Codes seeds 13/14 (validation, 1,000 each) for -wise 0.3, read only: 95.9 -> 95.8% / 93.0 -> 92.9% exact (asking
# 14.2 -> 13.2% / 16.8 -> 16.1%); over seeds 11-14 it fixes 4 codes and breaks 5: it asks less, it does not read better.
EVAL_PAD_DIR   ?= $(shell mktemp -d -t digitpad-evalpad.XXXXXX)
EVAL_VARIANT   ?= fp32
EVAL_PAD_SEED  ?= 1

.PHONY: eval-pad calibrate-assets

# calibrate-assets: temperature, confirm model and confirm threshold of each shipped variant, chosen on validation writers'
# codes (digitpad calibrate, reading them with the shipped pair and second readers), written into its card; the fp32
# risk-coverage plot goes to assets/report/; the fp32 run also writes the second reader's temperature (fitted on the
# same validation digits) into assets/second.json. Then, for each variant, the same fitted on the same codes read
# WITHOUT the second reader (--without-second: calibration_without_second, a native reader whose second reader does
# not ship; the pair reader still reads), and read by the DIGIT MODEL ALONE (--digit-model-only:
# calibration_digit_model_only, which the browser's pad uses: it has neither the pair nor the second reader; it ships
# int8 and takes the server's model after a swap). A threshold holds only for the reading it was chosen on: int8
# held-out codes read as the browser reads, at calibration_without_second (fitted with the pair reader): images
# 0.73% silent (22 of 3,000), strokes 1.45% (29 of 2,000), against the 0.5% target (session 15).
calibrate-assets:
	$(GO) run ./cmd/digitpad calibrate --model assets/model.onnx --second-card assets/second.json
	for v in int8 fp16; do tmp=$$(mktemp -d); \
	  $(GO) run ./cmd/digitpad calibrate --model assets/model-$$v.onnx --plot $$tmp/rc.png || exit 1; rm -rf $$tmp; done
	for m in model model-int8 model-fp16; do for r in --without-second --digit-model-only; do \
	  $(GO) run ./cmd/digitpad calibrate --model assets/$$m.onnx $$r || exit 1; done; done

eval-pad: build
	@set -e; d=$(EVAL_PAD_DIR); \
	  $(GO) run ./shared/synth/cmd/mkevalset -kind clean -n 1000 -seed $(EVAL_PAD_SEED) -out $$d/clean; \
	  $(GO) run ./shared/synth/cmd/mkevalset -kind unsteady -n 1000 -seed $(EVAL_PAD_SEED) -out $$d/unsteady; \
	  $(GO) run ./shared/synth/cmd/mkevalset -kind codes -n 400 -seed $(EVAL_PAD_SEED) -strokes time -out $$d/codes; \
	  for k in clean unsteady; do echo "== $$k single digits"; $(BIN) eval --variant $(EVAL_VARIANT) --data $$d/$$k --json; done; \
	  echo "== 5-digit codes (--format 5)"; $(BIN) eval --variant $(EVAL_VARIANT) --data $$d/codes --format 5 --json; \
	  echo "== 5-digit codes from their strokes (--format 5 --strokes)"; $(BIN) eval --variant $(EVAL_VARIANT) --data $$d/codes --format 5 --strokes --json; \
	  echo "== MNIST test, raw 28x28"; $(BIN) eval --variant $(EVAL_VARIANT) --json; \
	  for c in 280x280:rgb 76x64:grey 120x100:inverse; do echo "== MNIST test as $$c canvases"; \
	    $(BIN) eval --variant $(EVAL_VARIANT) --canvas $$c --json; done; \
	  echo "eval-pad: sets in $$d"
