package export_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"digitpad/server/export"
	"digitpad/server/store"
	"digitpad/server/store/sqlite"
	"digitpad/server/store/storetest"
	"digitpad/shared/protocol"
)

// seed stores three records: a corrected 3-digit code, a confirmed 2-digit code, and a typed code without inputs.
func seed(t *testing.T, path string) (store.Store, []string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	corrected := storetest.SampleFeedback("a", "307") // SampleFeedback predicts the first digit wrong
	confirmed := storetest.SampleFeedback("b", "42")
	confirmed.Digits[0].Digit, confirmed.Predicted = 4, "42"
	typed := protocol.Feedback{IdempotencyKey: "c", Code: "99", InkPNG: []byte("ink c")}
	var ids []string
	for _, f := range []protocol.Feedback{corrected, confirmed, typed} {
		id, _, err := st.SaveFeedback(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return st, ids
}

func TestRun_WritesImagesCSVInkAndIdx(t *testing.T) {
	st, ids := seed(t, filepath.Join(t.TempDir(), "d.db"))
	out := t.TempDir()
	n, err := export.Run(context.Background(), st, out)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n != 5 {
		t.Fatalf("Run exported %d digits, want 5 (3 + 2; the typed code has no inputs)", n)
	}

	sha := storetest.SampleFeedback("", "1").ModelSHA256
	wantRows := [][]string{
		export.CSVHeader,
		{"images/" + ids[0] + "_0.png", "3", ids[0], "pad-7", sha, "4", "true"},
		{"images/" + ids[0] + "_1.png", "0", ids[0], "pad-7", sha, "0", "false"},
		{"images/" + ids[0] + "_2.png", "7", ids[0], "pad-7", sha, "7", "false"},
		{"images/" + ids[1] + "_0.png", "4", ids[1], "pad-7", sha, "4", "false"},
		{"images/" + ids[1] + "_1.png", "2", ids[1], "pad-7", sha, "2", "false"},
	}
	f, err := os.Open(filepath.Join(out, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Fatalf("labels.csv:\ngot  %q\nwant %q", rows, wantRows)
	}

	// Each PNG is the stored input: grey 28×28, the label's bar white on black.
	wantPixels := [][]byte{storetest.Input(3, 0), storetest.Input(0, 1), storetest.Input(7, 2), storetest.Input(4, 0), storetest.Input(2, 1)}
	for i, row := range rows[1:] {
		img := readPNG(t, filepath.Join(out, row[0]))
		g, ok := img.(*image.Gray)
		if !ok || img.Bounds() != image.Rect(0, 0, 28, 28) {
			t.Fatalf("%s: %T %v, want a 28×28 *image.Gray", row[0], img, img.Bounds())
		}
		if !bytes.Equal(g.Pix, wantPixels[i]) {
			t.Errorf("%s: pixels differ from the stored input", row[0])
		}
	}

	images, labels := readIdx(t, out)
	if !bytes.Equal(labels, []byte{3, 0, 7, 4, 2}) {
		t.Errorf("idx labels = %v, want [3 0 7 4 2]", labels)
	}
	if !bytes.Equal(images, bytes.Join(wantPixels, nil)) {
		t.Errorf("idx images differ from the stored inputs")
	}

	for i, want := range [][]byte{[]byte("\x89PNG fake ink for a"), []byte("\x89PNG fake ink for b"), []byte("ink c")} {
		got, err := os.ReadFile(filepath.Join(out, "ink", ids[i]+".png"))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ink of record %d = %q, %v; want %q", i, got, err, want)
		}
	}
	if tmp, _ := filepath.Glob(filepath.Join(out, "*.tmp")); len(tmp) > 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

func TestRun_EmptyStoreWritesEmptySet(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := t.TempDir()
	n, err := export.Run(context.Background(), st, out)
	if err != nil || n != 0 {
		t.Fatalf("Run = %d, %v; want 0, nil", n, err)
	}
	images, labels := readIdx(t, out)
	if len(images) != 0 || len(labels) != 0 {
		t.Errorf("idx files hold %d pixels and %d labels, want none", len(images), len(labels))
	}
}

func TestMain_ExportsFromDSN(t *testing.T) {
	db := filepath.Join(t.TempDir(), "d.db")
	st, _ := seed(t, db)
	st.Close()
	out := filepath.Join(t.TempDir(), "set")
	var stdout, stderr bytes.Buffer
	if err := export.Main(context.Background(), []string{"--db", "sqlite:" + db, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("Main: %v (stderr %s)", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "exported 5 ") {
		t.Errorf("stdout = %q, want it to report 5 exported digits", stdout.String())
	}
	if _, labels := readIdx(t, out); len(labels) != 5 {
		t.Errorf("idx holds %d labels, want 5", len(labels))
	}
}

func TestMain_RejectsBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no flags", nil},
		{"no out", []string{"--db", "x.db"}},
		{"missing sqlite file", []string{"--db", filepath.Join(t.TempDir(), "nope.db"), "--out", t.TempDir()}},
		{"unknown scheme", []string{"--db", "mysql://x", "--out", t.TempDir()}},
		{"extra argument", []string{"--db", "x.db", "--out", "o", "more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DIGITPAD_DB", "")
			var stdout, stderr bytes.Buffer
			if err := export.Main(context.Background(), tt.args, &stdout, &stderr); err == nil {
				t.Errorf("Main(%q) succeeded, want an error", tt.args)
			}
		})
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// readIdx reads the two MNIST idx files, checking their headers.
func readIdx(t *testing.T, dir string) (images, labels []byte) {
	t.Helper()
	img, err := os.ReadFile(filepath.Join(dir, "images-idx3-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	lbl, err := os.ReadFile(filepath.Join(dir, "labels-idx1-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	if len(img) < 16 || len(lbl) < 8 {
		t.Fatalf("idx files too short: %d and %d bytes", len(img), len(lbl))
	}
	be := binary.BigEndian
	n := int(be.Uint32(lbl[4:]))
	if be.Uint32(img) != 0x803 || be.Uint32(lbl) != 0x801 {
		t.Errorf("idx magics = %#x, %#x; want 0x803, 0x801", be.Uint32(img), be.Uint32(lbl))
	}
	if int(be.Uint32(img[4:])) != n || be.Uint32(img[8:]) != 28 || be.Uint32(img[12:]) != 28 {
		t.Errorf("images header = %v, want count %d and 28×28", img[:16], n)
	}
	if len(img) != 16+n*784 || len(lbl) != 8+n {
		t.Errorf("idx sizes %d and %d do not match the count %d", len(img), len(lbl), n)
	}
	return img[16:], lbl[8:]
}
