package retrain

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"digitpad/registry"
	regopen "digitpad/registry/open"
	"digitpad/server/store/sqlite"
)

// A second retrain while one holds the store's lock stops at once with ErrBusy and touches nothing.
func TestRun_RefusesWhileAnotherRetrainHoldsTheLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "digitpad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, err := regopen.Open(ctx, regopen.Location{Registry: filepath.Join(dir, "registry")}, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	release, ok, err := st.TryLock(ctx, LockName, "the other retrain", time.Hour)
	if err != nil || !ok {
		t.Fatalf("TryLock: %v %v", ok, err)
	}
	if _, err := Run(ctx, Config{Store: st, Registry: reg}); !errors.Is(err, ErrBusy) {
		t.Fatalf("Run while locked: %v, want ErrBusy", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	// Free again: with no feedback the run ends early with its reason, and releases the lock.
	res, err := Run(ctx, Config{Store: st, Registry: reg})
	if err != nil || res.Passed || len(res.Reasons) != 1 {
		t.Fatalf("Run on an empty store: %+v, %v", res, err)
	}
	if _, ok, err := st.TryLock(ctx, LockName, "next", time.Hour); err != nil || !ok {
		t.Fatalf("lock not released after Run: %v %v", ok, err)
	}
}
