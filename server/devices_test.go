package server_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"digitpad/server"
	"digitpad/server/store/sqlite"
	"digitpad/shared/protocol"
)

// An operator gets a one-time code, a pad exchanges it for its own credential, sends feedback with it (HTTP
// and websocket), and stops being able to once the operator revokes it. The code works once only.
func TestDevices_EnrolSyncRevoke(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := mustOpen(t, func(c *server.Config) { c.Store = st })

	if r := postJSON(t, s.URL+"/v1/admin/enrolments", map[string]any{"name": "depot 7"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("enrolment without the token: %d %s", r.Status, r.Body)
	}
	r := postJSON(t, s.URL+"/v1/admin/enrolments", map[string]any{"name": "depot 7"}, bearer()...)
	if r.Status != http.StatusOK {
		t.Fatalf("create enrolment: %d %s", r.Status, r.Body)
	}
	var enr struct{ Code string }
	r.decode(t, &enr)
	if len(enr.Code) != 9 || enr.Code[4] != '-' {
		t.Fatalf("code %q, want XXXX-XXXX", enr.Code)
	}
	// The clerk types it in lower case with a space.
	typed := enr.Code[:4] + " " + enr.Code[5:]
	r = postJSON(t, s.URL+"/v1/devices/enrol", map[string]any{"code": typed})
	if r.Status != http.StatusOK {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	var dev struct {
		DeviceID   string `json:"device_id"`
		Name       string `json:"name"`
		Credential string `json:"credential"`
	}
	r.decode(t, &dev)
	if dev.Name != "depot 7" || len(dev.Credential) < 40 {
		t.Fatalf("device %+v", dev)
	}
	if r := postJSON(t, s.URL+"/v1/devices/enrol", map[string]any{"code": enr.Code}); r.Status != http.StatusNotFound {
		t.Fatalf("second use of the code: %d %s, want 404", r.Status, r.Body)
	}
	auth := []string{"Authorization", "Bearer " + dev.Credential}
	if r := postJSON(t, s.URL+"/v1/feedback", sampleFeedback("k-http", "10115"), auth...); r.Status != http.StatusCreated {
		t.Fatalf("feedback with the device credential: %d %s", r.Status, r.Body)
	}
	if r := postJSON(t, s.URL+"/v1/admin/enrolments", map[string]any{}, auth...); r.Status != http.StatusUnauthorized {
		t.Fatalf("a device credential is not an admin token: %d", r.Status)
	}
	// A browser offers the credential as a websocket subprotocol, never in the URL.
	hdr := http.Header{"Sec-WebSocket-Protocol": {"digitpad, digitpad.bearer." + dev.Credential}}
	c := dialWS(t, s.URL, hdr)
	c.send(t, protocol.TypeFeedback, "f1", sampleFeedback("k-ws", "10115"))
	if env := c.nextOf(t, protocol.TypeAck); env.ID != "f1" {
		t.Fatalf("ack for %q", env.ID)
	}
	if r := postJSON(t, s.URL+"/v1/admin/devices/"+dev.DeviceID+"/revoke", nil, bearer()...); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := postJSON(t, s.URL+"/v1/feedback", sampleFeedback("k-http2", "10115"), auth...); r.Status != http.StatusUnauthorized {
		t.Fatalf("feedback after revocation: %d, want 401", r.Status)
	}
	// The open connection is refused too: the credential is checked per record.
	c.send(t, protocol.TypeFeedback, "f2", sampleFeedback("k-ws2", "10115"))
	if env := c.nextOf(t, protocol.TypeError); env.ID != "f2" {
		t.Fatalf("error for %q", env.ID)
	}
	var list struct {
		Devices []struct {
			ID        string `json:"id"`
			RevokedAt string `json:"revoked_at"`
		} `json:"devices"`
	}
	do(t, http.MethodGet, s.URL+"/v1/admin/devices", "", nil, bearer()...).decode(t, &list)
	if len(list.Devices) != 1 || list.Devices[0].RevokedAt == "" {
		t.Errorf("devices %+v", list.Devices)
	}
}
