package registry

import (
	"errors"
	"testing"
)

func TestParseURI(t *testing.T) {
	for in, want := range map[string]Ref{
		"models:/digitpad@production": {Model: "digitpad", Alias: "production"},
		"models:/digitpad/7":          {Model: "digitpad", Version: 7},
		"models:/other.model/12":      {Model: "other.model", Version: 12},
	} {
		got, err := ParseURI(in)
		if err != nil || got != want {
			t.Errorf("ParseURI(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), in)
		}
	}
	for _, bad := range []string{"digitpad", "models:/", "models:/digitpad", "models:/digitpad/0", "models:/digitpad/x",
		"models:/digitpad@", "models:/digitpad@v3", "models:/../x/1", "models:/digitpad@pro duction"} {
		if _, err := ParseURI(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseURI(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

func TestParseVersionRef(t *testing.T) {
	for in, want := range map[string]Ref{
		"3": {Model: "m", Version: 3}, "v4": {Model: "m", Version: 4}, "@candidate": {Model: "m", Alias: "candidate"},
		"models:/x/2": {Model: "x", Version: 2},
	} {
		got, err := ParseVersionRef("m", in)
		if err != nil || got != want {
			t.Errorf("ParseVersionRef(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	if _, err := ParseVersionRef("m", "latest"); err == nil {
		t.Error("ParseVersionRef(latest) accepted")
	}
}
