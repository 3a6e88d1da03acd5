package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/registry"
	"digitpad/shared/synth"
)

func TestRegistryCLI_Lifecycle(t *testing.T) {
	dir := t.TempDir()
	reg := "--registry=" + filepath.Join(dir, "reg")
	jsonOut := func(v any, args ...string) {
		t.Helper()
		out, errs, err := mustRun(t, append(args, reg, "--json")...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errs)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v: %v in %q", args, err, out)
		}
	}
	var list struct {
		Model    registry.Model
		Versions []registry.Version
	}
	jsonOut(&list, "registry", "list")
	if list.Model.Aliases[registry.Production] != 1 || len(list.Versions) != 1 || !list.Versions[0].HasVariant("int8") {
		t.Fatalf("a new registry: %+v, want the shipped model as version 1 in production", list)
	}
	model := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(model, assets.Model(), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report")
	os.Mkdir(report, 0o755)
	os.WriteFile(filepath.Join(report, "per_class.png"), []byte("png bytes"), 0o644)
	os.WriteFile(filepath.Join(report, "notes.exe"), []byte("skipped"), 0o644)
	var v registry.Version
	jsonOut(&v, "registry", "register", model, "--alias", "candidate", "--parent", "1", "--seed", "5", "--metrics", "acc=0.99", "--report", report)
	if v.Version != 2 || v.Lineage.Parent != 1 || v.Lineage.Seed != 5 || v.Metrics["acc"] != 0.99 || len(v.Aliases) != 1 {
		t.Fatalf("registered %+v", v)
	}
	if _, ok := v.File("report/per_class.png"); !ok {
		t.Errorf("report plot not registered: %+v", v.Files)
	}
	if _, ok := v.File("report/notes.exe"); ok {
		t.Errorf("a non-report file was registered")
	}
	var mv registry.AliasMove
	jsonOut(&mv, "registry", "promote", "--expect", "1", "production", "2", "--by", "alice", "--reason", "holdout +2 points")
	if mv.From != 1 || mv.To != 2 || mv.By != "alice" {
		t.Errorf("promote: %+v", mv)
	}
	_, _, err := mustRun(t, "registry", "promote", "--expect", "1", "production", "1", reg)
	if !errors.Is(err, registry.ErrConflict) {
		t.Errorf("stale promote: %v, want a conflict", err)
	}
	jsonOut(&mv, "registry", "rollback", "production")
	if mv.From != 2 || mv.To != 1 {
		t.Errorf("rollback: %+v", mv)
	}
	var h []registry.AliasMove
	jsonOut(&h, "registry", "history", "production")
	if len(h) != 3 || h[1].Reason != "holdout +2 points" || h[2].To != 1 {
		t.Errorf("history: %+v", h)
	}
	var atPromotion struct{ Version int }
	jsonOut(&atPromotion, "registry", "history", "production", "--at", h[1].At.Format(time.RFC3339Nano))
	if atPromotion.Version != 2 {
		t.Errorf("production at the promotion: %+v, want version 2", atPromotion)
	}
	jsonOut(&v, "registry", "tag", "2", "reviewed=yes")
	if v.Tags["reviewed"] != "yes" {
		t.Errorf("tag: %+v", v.Tags)
	}
	if _, _, err := mustRun(t, "registry", "delete", "1", reg); !errors.Is(err, registry.ErrInUse) {
		t.Errorf("delete production's version: %v, want in use", err)
	}
	bad := filepath.Join(dir, "bad.onnx")
	os.WriteFile(bad, assets.Model()[:5000], 0o644)
	if _, _, err := mustRun(t, "registry", "register", bad, reg); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("corrupt register: %v, want invalid", err)
	}
	jsonOut(&list, "registry", "list")
	if len(list.Versions) != 2 {
		t.Errorf("after a refused upload: %d versions, want 2", len(list.Versions))
	}
}

func TestPredict_ModelURI(t *testing.T) {
	dir := t.TempDir()
	reg := "--registry=" + filepath.Join(dir, "reg")
	img := filepath.Join(dir, "c.png")
	writeCode(t, img, "40213", synth.Pen{})
	viaFile, _, err := mustRun(t, "predict", "--variant", "int8", img)
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"models:/digitpad@production", "models:/digitpad/1"} {
		out, errs, err := mustRun(t, "predict", "--model", uri, "--variant", "int8", reg, img)
		if err != nil {
			t.Fatalf("%s: %v %s", uri, err, errs)
		}
		if out != viaFile {
			t.Errorf("%s predicts\n%s\nthe embedded int8 model\n%s", uri, out, viaFile)
		}
		if !strings.Contains(out, `"code":"40213"`) {
			t.Errorf("%s: %s", uri, out)
		}
	}
	if _, _, err := mustRun(t, "predict", "--model", "models:/digitpad@nosuch", reg, img); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("missing alias: %v", err)
	}
}
