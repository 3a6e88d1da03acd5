package kiosk_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"digitpad/desktop/kiosk"
	"digitpad/shared/protocol"
)

// outboxHelperEnv makes the test binary act as a kiosk that writes records until it is killed (see TestMain).
const outboxHelperEnv = "DIGITPAD_TEST_OUTBOX_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(outboxHelperEnv); path != "" {
		writeUntilKilled(path)
		return
	}
	os.Exit(m.Run())
}

// writeUntilKilled puts records and prints each key once Put returned, so the parent knows what was promised.
func writeUntilKilled(path string) {
	o, err := kiosk.OpenOutbox(path, 5*time.Second)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	for i := range 100000 {
		f := record(fmt.Sprintf("key-%05d", i), "80331")
		if err := o.Put(f); err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println(f.IdempotencyKey)
	}
	os.Exit(0)
}

func record(key, code string) protocol.Feedback {
	labels := make([]int, len(code))
	inputs := make([][]byte, len(code))
	for i, c := range code {
		labels[i] = int(c - '0')
		inputs[i] = make([]byte, 784)
		inputs[i][i] = 255
	}
	return protocol.Feedback{
		IdempotencyKey: key, ClientID: "kiosk-test", Code: code, Labels: labels, Predicted: code,
		InkPNG: []byte("\x89PNG fake"), Inputs: inputs, ModelSHA256: fmt.Sprintf("%064d", 0),
		CreatedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
	}
}

func mustOutbox(t *testing.T, path string) *kiosk.Outbox {
	t.Helper()
	o, err := kiosk.OpenOutbox(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func keys(t *testing.T, o *kiosk.Outbox) []string {
	t.Helper()
	recs, err := o.List()
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, r := range recs {
		ks = append(ks, r.IdempotencyKey)
	}
	return ks
}

func TestOutbox_KeepsRecordsInOrderAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o := mustOutbox(t, path)
	want := []protocol.Feedback{record("b", "10115"), record("a", "80331"), record("c", "47110")}
	for _, f := range want {
		if err := o.Put(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	o = mustOutbox(t, path)
	defer o.Close()
	got, err := o.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records after reopen, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.IdempotencyKey != w.IdempotencyKey || g.Code != w.Code || !slices.Equal(g.Labels, w.Labels) ||
			string(g.InkPNG) != string(w.InkPNG) || len(g.Inputs) != len(w.Inputs) || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("record %d = %+v, want %+v", i, g, w)
		}
	}
	if n, _ := o.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
}

func TestOutbox_SameKeyIsStoredOnce(t *testing.T) {
	o := mustOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	defer o.Close()
	_ = o.Put(record("k", "11111"))
	_ = o.Put(record("k", "22222"))
	if got := keys(t, o); !slices.Equal(got, []string{"k"}) {
		t.Errorf("keys = %v, want [k]", got)
	}
	if err := o.Put(record("", "1")); err == nil {
		t.Error("a record without idempotency key was accepted")
	}
}

func TestOutbox_DeleteAndReject(t *testing.T) {
	o := mustOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	defer o.Close()
	for _, k := range []string{"a", "b", "c"} {
		_ = o.Put(record(k, "12345"))
	}
	if ok, err := o.Delete("b"); !ok || err != nil {
		t.Fatalf("Delete(b) = %v, %v", ok, err)
	}
	if ok, _ := o.Delete("b"); ok {
		t.Error("deleting b twice reported it pending")
	}
	if ok, err := o.Reject("a", protocol.Error{Code: protocol.EInvalid, Message: "bad"}, time.Now()); !ok || err != nil {
		t.Fatalf("Reject(a) = %v, %v", ok, err)
	}
	if got := keys(t, o); !slices.Equal(got, []string{"c"}) {
		t.Errorf("pending = %v, want [c]", got)
	}
	rej, err := o.RejectedRecords()
	if err != nil || len(rej) != 1 || rej[0].Feedback.IdempotencyKey != "a" || rej[0].Code != protocol.EInvalid {
		t.Errorf("rejected = %+v, %v; want record a with code invalid", rej, err)
	}
	// Rejecting frees the key, so a repaired record can be queued again.
	_ = o.Put(record("a", "12345"))
	if n, _ := o.Len(); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
}

func TestOutbox_RecordsSurviveSIGKILL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), outboxHelperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var promised []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if len(line) > 3 && line[:3] == "ERR" {
			t.Fatal(line)
		}
		promised = append(promised, line)
		if len(promised) == 20 {
			// Kill in the middle of the writer's next transaction.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = cmd.Wait()
	if len(promised) < 20 {
		t.Fatalf("writer reported only %d records before dying", len(promised))
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer ended with %v, want killed by SIGKILL", cmd.ProcessState)
	}
	o := mustOutbox(t, path)
	defer o.Close()
	got := keys(t, o)
	for _, k := range promised {
		if !slices.Contains(got, k) {
			t.Errorf("record %s was acknowledged by Put but is gone after the kill", k)
		}
	}
	if len(got) > len(promised)+1 {
		t.Errorf("found %d records, the writer finished at most %d", len(got), len(promised)+1)
	}
}
