//go:build unix

package cputime_test

import (
	"testing"

	"digitpad/internal/cputime"
)

func TestProcess_CountsWork(t *testing.T) {
	t0 := cputime.Process()
	x := 0
	for i := range 50_000_000 {
		x ^= i * i
	}
	if d := cputime.Process() - t0; d <= 0 {
		t.Errorf("a busy loop (%d) counted %v of CPU", x, d)
	}
}
