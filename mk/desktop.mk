# Desktop kiosk (issue 6): included from the main Makefile.
#   make desktop         build bin/digitpad-kiosk (installs the X11/GL headers Ebiten's cgo build needs if missing)
#   make test-desktop    logic tests with no display (CGO_ENABLED=0), then the end-to-end test under xvfb-run:
#                        the real kiosk binary driven with xdotool, synced to the real server (in-process, and
#                        `digitpad serve` for the enrolment story); the render layer's notice test
#   make run-kiosk       start the kiosk in a window; DIGITPAD_SERVER, DIGITPAD_TOKEN, ... from the environment
#   make docs-kiosk      test-desktop, then docs/kiosk*.png from its screenshots (800x500, 256 colours)
# The e2e tests save screenshots to desktop/testdata/artifacts/kiosk*.png.
KIOSK_BIN         := bin/digitpad-kiosk
DESKTOP_DEBS      := libgl1-mesa-dev libxcursor-dev libxi-dev libxinerama-dev libxrandr-dev libxxf86vm-dev pkg-config
DESKTOP_TEST_DEBS := xvfb xauth xdotool imagemagick

.PHONY: desktop desktop-deps desktop-test-deps test-desktop run-kiosk docs-kiosk

desktop-deps:
	$(call apt-ensure,$(DESKTOP_DEBS))

desktop-test-deps:
	$(call apt-ensure,$(DESKTOP_DEBS) $(DESKTOP_TEST_DEBS))

desktop: desktop-deps
	$(GO) build -o $(KIOSK_BIN) ./desktop/cmd/digitpad-kiosk

# `build` too: the enrolment story runs the real `digitpad serve` (bin/digitpad) beside the kiosk.
# The kiosk's logic tests need no display. Inside `make test` (TEST_PREPPED=1) they have run in test-go
# (go test ./...; with cgo only net's resolver differs, and they talk to 127.0.0.1), so here they are only built
# without cgo and not run (-run '^$'; -vet=off: lint has vetted them). Measured warm on a loaded box: the run costs
# 6.5 CPU s and 68 s wall (38 s of it the tests waiting), the build alone 2.7 CPU s and 23 s.
test-desktop: desktop-test-deps desktop build
	CGO_ENABLED=0 $(GO) test -count=1 $(if $(TEST_PREPPED),-vet=off -run '^$$') ./desktop/kiosk/...
	# A random first display number: two xvfb-run -a started at once both try :99, and the loser's X server fails.
	# -noreset: by default Xvfb resets when its last client leaves, and a kiosk that connects during the reset
	# fails with "Failed to open display" (CI, stop 22: one test's kiosk exited, the next one's start failed).
	DIGITPAD_KIOSK_BIN=$(abspath $(KIOSK_BIN)) DIGITPAD_BIN=$(abspath $(BIN)) xvfb-run -a -n $$((100 + RANDOM % 800)) -s "-screen 0 1280x1024x24 -noreset" \
	  $(GO) test -count=1 -tags e2e -timeout 8m ./desktop/cmd/digitpad-kiosk/ ./desktop/e2e/

KIOSK_SHOTS := kiosk kiosk-not-enrolled kiosk-enrol kiosk-check kiosk-edit kiosk-format
docs-kiosk: test-desktop
	for f in $(KIOSK_SHOTS); do convert desktop/testdata/artifacts/$$f.png -resize 800x500 -colors 256 PNG8:docs/$$f.png || exit 1; done

run-kiosk: desktop
	$(KIOSK_BIN) -data data/kiosk

# `go vet ./...` and `go test ./...` compile the kiosk's cgo code too, so they need the headers first.
lint test-go: desktop-deps

TEST_TARGETS += test-desktop
TEST_DEBS += $(DESKTOP_DEBS) $(DESKTOP_TEST_DEBS)
