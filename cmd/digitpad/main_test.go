package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"hash/crc32"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"digitpad/shared/synth"
)

// mustRun runs the CLI in-process and returns stdout, stderr and the error.
func mustRun(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// writeCode renders a code with the stroke font as a PNG canvas.
func writeCode(t *testing.T, path, code string, pen synth.Pen) {
	t.Helper()
	p := synth.Defaults()
	p.Seed = 42
	p.Height = 120
	c, err := synth.Write(code, synth.Centered(p, len(code), 640, 200))
	if err != nil {
		t.Fatal(err)
	}
	img, err := synth.Render(c.Strokes, 640, 200, pen)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// hugePNG is a valid PNG signature and IHDR claiming w×h pixels, with no image data.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grey
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

type line struct {
	File   string `json:"file"`
	Index  *int   `json:"index"`
	Code   string `json:"code"`
	Error  string `json:"error"`
	Digits []struct {
		Digit      int       `json:"digit"`
		Confidence float64   `json:"confidence"`
		Probs      []float64 `json:"probs"`
		Box        [4]int    `json:"box"`
	} `json:"digits"`
	Confirm []int `json:"confirm"`
	Model   struct {
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
	} `json:"model"`
}

func parseLines(t *testing.T, out string) []line {
	t.Helper()
	var ls []line
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		ls = append(ls, l)
	}
	return ls
}

func TestPredict_GoodAndBadFilesEachGetALine(t *testing.T) {
	dir := t.TempDir()
	writeCode(t, filepath.Join(dir, "a_good.png"), "94107", synth.Pen{Width: 8, Ink: color.Black, Background: color.White})
	writeCode(t, filepath.Join(dir, "b_light_on_dark.png"), "3812", synth.Pen{Width: 5, Ink: color.White, Background: color.Black})
	blank := filepath.Join(dir, "c_blank.png")
	writeCode(t, blank, "", synth.Pen{Background: color.White})
	os.WriteFile(filepath.Join(dir, "d_corrupt.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	os.WriteFile(filepath.Join(dir, "e_empty.png"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "f_huge.png"), hugePNG(30000, 30000), 0o644)
	out, _, err := mustRun(t, "predict", dir, filepath.Join(dir, "missing.png"))
	if !errors.Is(err, errReported) {
		t.Fatalf("predict with bad files: err %v, want a non-zero exit", err)
	}
	ls := parseLines(t, out)
	if len(ls) != 7 {
		t.Fatalf("got %d lines, want 7:\n%s", len(ls), out)
	}
	want := []struct{ file, code, errPart string }{
		{"a_good.png", "94107", ""},
		{"b_light_on_dark.png", "3812", ""},
		{"c_blank.png", "", "no ink"},
		{"d_corrupt.png", "", "not a readable"},
		{"e_empty.png", "", "empty file"},
		{"f_huge.png", "", "too large"},
		{"missing.png", "", "no such file"},
	}
	for i, w := range want {
		l := ls[i]
		if filepath.Base(l.File) != w.file {
			t.Errorf("line %d: file %q, want %q (input order)", i, l.File, w.file)
		}
		if w.errPart != "" {
			if !strings.Contains(l.Error, w.errPart) {
				t.Errorf("%s: error %q, want it to mention %q", w.file, l.Error, w.errPart)
			}
			continue
		}
		if l.Error != "" || l.Code != w.code {
			t.Errorf("%s: code %q error %q, want code %q", w.file, l.Code, l.Error, w.code)
		}
		if len(l.Digits) != len(w.code) || len(l.Digits[0].Probs) != 10 || l.Confirm == nil {
			t.Errorf("%s: digits %+v confirm %v: want %d digits with 10 probs and a confirm list", w.file, l.Digits, l.Confirm, len(w.code))
		}
		if len(l.Model.SHA256) != 64 || l.Model.Name == "" {
			t.Errorf("%s: model %+v, want name and sha256", w.file, l.Model)
		}
	}
}

func TestPredict_AllGoodExitsZero(t *testing.T) {
	dir := t.TempDir()
	writeCode(t, filepath.Join(dir, "x.png"), "52", synth.Pen{Width: 6, Ink: color.Black, Background: color.White})
	out, _, err := mustRun(t, "predict", "--format", "2", filepath.Join(dir, "x.png"))
	if err != nil {
		t.Fatalf("err %v, output %s", err, out)
	}
	if ls := parseLines(t, out); len(ls) != 1 || ls[0].Code != "52" {
		t.Errorf("got %s", out)
	}
}

func TestPredict_IdxFileGivesIndexedLines(t *testing.T) {
	// An idx3 file of three 28×28 images: a vertical bar (a 1), and two blank ones.
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, []uint32{0x803, 3, 28, 28})
	img := make([]byte, 3*784)
	for y := 4; y < 24; y++ {
		img[y*28+13], img[y*28+14] = 255, 255
	}
	b.Write(img)
	path := filepath.Join(t.TempDir(), "digits-idx3-ubyte")
	os.WriteFile(path, b.Bytes(), 0o644)
	out, _, err := mustRun(t, "predict", path)
	if err != nil {
		t.Fatalf("err %v", err)
	}
	ls := parseLines(t, out)
	if len(ls) != 3 {
		t.Fatalf("got %d lines, want 3", len(ls))
	}
	for i, l := range ls {
		if l.Index == nil || *l.Index != i || l.File != "" {
			t.Errorf("line %d: index %v file %q, want index %d and no file", i, l.Index, l.File, i)
		}
	}
	if ls[0].Code != "1" {
		t.Errorf("vertical bar read as %q, want 1", ls[0].Code)
	}
}

func TestBench_JSON(t *testing.T) {
	out, _, err := mustRun(t, "bench", "--batch", "4", "--duration", "100ms", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	for _, k := range []string{"batch", "p50_us", "p99_us", "us_per_digit", "digits_per_s"} {
		if v, ok := r[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want > 0", k, r[k])
		}
	}
	if r["batch"] != 4.0 {
		t.Errorf("batch %v, want 4", r["batch"])
	}
}

func TestHelp_EveryCommandExplainsItsFlags(t *testing.T) {
	for name := range commands() {
		_, stderr, err := mustRun(t, name, "--help")
		if name == "feedback" {
			_, stderr, err = mustRun(t, name, "export", "--help")
		}
		if !errors.Is(err, flagErrHelpSentinel()) {
			t.Errorf("%s --help: err %v, want flag.ErrHelp", name, err)
		}
		if !strings.Contains(stderr, "-") {
			t.Errorf("%s --help printed no flags:\n%s", name, stderr)
		}
	}
	if _, _, err := mustRun(t, "nonsense"); err == nil {
		t.Error("unknown command: no error")
	}
}

func flagErrHelpSentinel() error { return flag.ErrHelp }
