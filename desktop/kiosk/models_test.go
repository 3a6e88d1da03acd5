package kiosk_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"digitpad/assets"
	"digitpad/desktop/kiosk"
	"digitpad/onnxpb"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// variantModel is the shipped model with a different producer name: the same network, other bytes, so a
// swap to it is visible through its sha256.
func variantModel(t testing.TB, producer string) []byte {
	t.Helper()
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(assets.Model(), &m); err != nil {
		t.Fatal(err)
	}
	m.ProducerName = proto.String(producer)
	b, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustModelStore(t *testing.T) (*kiosk.ModelStore, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "models")
	s, err := kiosk.OpenModelStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestModelStore_KeepsOnlyBytesMatchingTheHash(t *testing.T) {
	s, dir := mustModelStore(t)
	good := variantModel(t, "v2")
	err := s.Save(sha(good), "v2", bytes.NewReader(variantModel(t, "evil")))
	if !errors.Is(err, kiosk.ErrHashMismatch) {
		t.Fatalf("Save of other bytes: got %v, want ErrHashMismatch", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a rejected download left files: %v", ents)
	}
	if err := s.Save(sha(good), "v2", bytes.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	m, err := s.Load(sha(good))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.ONNX, good) || m.Name != "v2" {
		t.Errorf("loaded %d bytes named %q, want the saved model named v2", len(m.ONNX), m.Name)
	}
}

func TestModelStore_NewestSkipsCorruptFiles(t *testing.T) {
	s, dir := mustModelStore(t)
	older, newer := variantModel(t, "older"), variantModel(t, "newer")
	for _, b := range [][]byte{older, newer} {
		if err := s.Save(sha(b), "", bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	_ = s.Touch(sha(older), now.Add(-time.Hour))
	_ = s.Touch(sha(newer), now)
	m, _, err := s.Newest()
	if err != nil || m == nil || m.SHA256 != sha(newer) {
		t.Fatalf("Newest = %v, %v; want the newer model", m, err)
	}
	// A bit flip on disk: the newer file no longer matches its name and must not be used.
	flipped := bytes.Clone(newer)
	flipped[len(flipped)/2] ^= 1
	if err := os.WriteFile(filepath.Join(dir, sha(newer)+".onnx"), flipped, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = s.Touch(sha(newer), now)
	m, skipped, err := s.Newest()
	if err != nil || m == nil || m.SHA256 != sha(older) {
		t.Fatalf("Newest = %v, %v; want the older, intact model", m, err)
	}
	if len(skipped) != 1 || !errors.Is(skipped[0], kiosk.ErrHashMismatch) {
		t.Errorf("skipped = %v, want one hash mismatch", skipped)
	}
}

func TestModelStore_EmptyHasNoNewest(t *testing.T) {
	s, _ := mustModelStore(t)
	if m, _, err := s.Newest(); m != nil || err != nil {
		t.Errorf("Newest on an empty store = %v, %v", m, err)
	}
	if _, err := s.Load("not-a-hash"); err == nil {
		t.Error("Load of a malformed hash gave no error")
	}
}
