package kiosk_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/desktop/kiosk"
	"digitpad/server"
	"digitpad/server/store"
	"digitpad/server/store/sqlite"
)

// A new depot's story: the kiosk without a credential shows "refused" with the code pending; the operator's
// one-time code enrols it, the code syncs; revoking the device refuses again.
func TestApp_EnrolmentMakesCodesSyncAndRevocationStopsThem(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Store: st, Token: "admin-token", OpenPredict: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetModel(assets.Model(), assets.ModelCard()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	data := t.TempDir()

	r := startApp(t, kiosk.Config{Server: srv.URL(), DataDir: data})
	r.write(t, "29384", 4)
	r.wait(t, "recognised", hasCode("29384"))
	r.tap(kiosk.Centre(r.app.Layout().Confirm))
	r.wait(t, "refused, the code pending", func(s kiosk.State) bool { return s.Sync == "refused" && s.Pending == 1 })
	r.stop()

	code, _, err := server.NewEnrolment(context.Background(), st, "depot 7 kiosk", time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kiosk.Enrol(context.Background(), nil, srv.URL(), data, "wrong-code", "k"); err == nil {
		t.Fatal("a wrong code enrolled the kiosk")
	}
	id, err := kiosk.Enrol(context.Background(), nil, srv.URL(), data, code, "depot 7")
	if err != nil {
		t.Fatal(err)
	}
	r = startApp(t, kiosk.Config{Server: srv.URL(), DataDir: data})
	r.wait(t, "synced", func(s kiosk.State) bool { return s.Sync == "synced" && s.Pending == 0 })

	if err := store.Devices(st).RevokeDevice(context.Background(), id, time.Now()); err != nil {
		t.Fatal(err)
	}
	r.write(t, "29384", 4)
	r.wait(t, "recognised", hasCode("29384"))
	r.tap(kiosk.Centre(r.app.Layout().Confirm))
	r.wait(t, "refused after revocation", func(s kiosk.State) bool { return s.Sync == "refused" && s.Pending == 1 })
}
