package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"digitpad/server/store"
)

// testDevices: a one-time code enrols exactly one device, once, before it expires; the device is found by its
// credential's hash until it is revoked.
func testDevices(t *testing.T, b Backend) {
	ctx := context.Background()
	st, ok := b.MustNew(t).(store.Devices)
	if !ok {
		t.Fatal("the store does not implement store.Devices")
	}
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	if err := st.CreateEnrolment(ctx, store.Enrolment{CodeHash: hash("ABCD-EFGH"), Name: "depot 7 pad",
		CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEnrolment(ctx, store.Enrolment{CodeHash: hash("OLD0-CODE"), Name: "late",
		CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Enrol(ctx, hash("WRNG-CODE"), now, store.Device{ID: "dev-x"}, hash("cred-x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown code: got %v, want ErrNotFound", err)
	}
	if _, err := st.Enrol(ctx, hash("OLD0-CODE"), now.Add(2*time.Minute), store.Device{ID: "dev-late"}, hash("cred-late")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired code: got %v, want ErrNotFound", err)
	}
	// Two devices race for one code: exactly one is enrolled.
	var wg sync.WaitGroup
	results := make([]error, 4)
	for i := range results {
		wg.Go(func() {
			id := string(rune('a' + i))
			_, results[i] = st.Enrol(ctx, hash("ABCD-EFGH"), now.Add(time.Minute), store.Device{ID: "dev-" + id}, hash("cred-"+id))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Errorf("code spent twice: racers %d and %d", winner, i)
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer enrolled")
	}
	id := "dev-" + string(rune('a'+winner))
	d, err := st.DeviceByCredential(ctx, hash("cred-"+string(rune('a'+winner))))
	if err != nil || d.ID != id || d.Name != "depot 7 pad" || !d.CreatedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("device by credential: %+v, %v; want %s named after the enrolment", d, err, id)
	}
	if _, err := st.DeviceByCredential(ctx, hash("cred-unknown")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown credential: %v", err)
	}
	if err := st.RevokeDevice(ctx, "dev-nobody", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown: %v", err)
	}
	at := now.Add(time.Hour)
	if err := st.RevokeDevice(ctx, id, at); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeDevice(ctx, id, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	d, err = st.DeviceByCredential(ctx, hash("cred-"+string(rune('a'+winner))))
	if !errors.Is(err, store.ErrRevoked) || d == nil || d.RevokedAt == nil || !d.RevokedAt.Equal(at) {
		t.Errorf("revoked device: %+v, %v; want ErrRevoked at %v (the first revocation)", d, err, at)
	}
	list, err := st.ListDevices(ctx)
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].RevokedAt == nil {
		t.Errorf("list: %+v, %v", list, err)
	}
}
