// Package e2e holds the kiosk's end-to-end test (build tag e2e, run by `make test-desktop` under xvfb-run): the
// real digitpad-kiosk binary in an X window, driven with xdotool, killed and restarted, and synced to the real
// server started in-process.
package e2e
