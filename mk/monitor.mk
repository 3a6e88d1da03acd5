# Monitoring (issue 15): included from the main Makefile.
#   make profile-assets  (re)compute the reference profile of each shipped model (assets/model*.onnx) on the MNIST
#                        validation slice and write it into the model card (field reference_profile; other fields
#                        unchanged). Rerun after `make train` or `make quantize-assets`.
PROFILE_MODELS ?= $(wildcard assets/model.onnx assets/model-int8.onnx assets/model-fp16.onnx)

.PHONY: profile-assets

profile-assets:
	@for m in $(PROFILE_MODELS); do $(GO) run ./cmd/digitpad profile --model $$m || exit 1; done
