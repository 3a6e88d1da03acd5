package web_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The browser's wasm must not link the ONNX decoder: gorgonia.org/tensor alone (which onnx-go needs) disables the
// linker's method dead-code elimination and makes the download 4+ MB gzip. Models reach the wasm as graph files.
// Nor Go's regexp (~130 kB gzip): code formats match patterns with the browser's RegExp (bridge.BrowserPatterns).
func TestWasmLinksNoONNXDecoderNorRegexp(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "digitpad/wasm")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 || !slices.Contains(deps, "digitpad/shared/model") {
		t.Fatalf("go list gave %d packages without digitpad/shared/model: %q", len(deps), out)
	}
	for _, d := range deps {
		for _, banned := range []string{"github.com/owulveryck/onnx-go", "gorgonia.org/tensor", "google.golang.org/protobuf",
			"github.com/gogo/protobuf", "gonum.org/v1/gonum", "digitpad/onnxpb", "digitpad/shared/model/onnxload",
			"digitpad/shared/recognize/onnxrec", "digitpad/assets", "regexp"} {
			if d == banned || strings.HasPrefix(d, banned+"/") {
				t.Errorf("the wasm links %s", d)
			}
		}
	}
}
