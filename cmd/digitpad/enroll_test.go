package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"digitpad/server"
	"digitpad/server/store"
	"digitpad/server/store/open"
)

// The operator's story: `digitpad enroll` prints a code, a device spends it, `enroll list` shows the device and
// `enroll revoke` revokes it.
func TestEnroll_CodeListRevoke(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runEnroll(ctx, []string{"--data", dir, "--name", "depot 7"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`code ([A-Z0-9]{4}-[A-Z0-9]{4})`).FindStringSubmatch(out.String())
	if code == nil {
		t.Fatalf("no code in %q", out.String())
	}
	st, err := open.Open(ctx, "sqlite:"+filepath.Join(dir, "digitpad.db"))
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := server.EnrolDevice(ctx, st.(store.Devices), code[1], "", time.Now())
	st.Close()
	if err != nil || d.Name != "depot 7" {
		t.Fatalf("enrol with the printed code: %+v %v", d, err)
	}
	out.Reset()
	if err := runEnroll(ctx, []string{"list", "--data", dir}, &out, &out); err != nil || !strings.Contains(out.String(), d.ID+"\t") || !strings.Contains(out.String(), "active") {
		t.Fatalf("list: %q %v", out.String(), err)
	}
	out.Reset()
	if err := runEnroll(ctx, []string{"revoke", d.ID, "--data", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runEnroll(ctx, []string{"list", "--data", dir}, &out, &out); err != nil || !strings.Contains(out.String(), "revoked") {
		t.Fatalf("list after revoke: %q %v", out.String(), err)
	}
}
