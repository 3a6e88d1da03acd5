package s3blob

import (
	"errors"
	"testing"

	"digitpad/registry"
)

func TestParseURL(t *testing.T) {
	b, p, ps, err := ParseURL("s3://models/digitpad/registry?path-style=false")
	if err != nil || b != "models" || p != "digitpad/registry/" || ps == nil || *ps {
		t.Errorf("got %q %q %v %v", b, p, ps, err)
	}
	b, p, ps, err = ParseURL("s3://models")
	if err != nil || b != "models" || p != "" || ps != nil {
		t.Errorf("got %q %q %v %v", b, p, ps, err)
	}
	for _, bad := range []string{"models/x", "http://h/b", "s3:///x", ""} {
		if _, _, _, err := ParseURL(bad); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", bad, err)
		}
	}
}
