package model

import (
	"bytes"
	"os"
	"testing"

	"digitpad/shared/model/internal/kernelgen"
)

// The kernels' assembly and Go stubs are generated, and each stub's comment is its reference loop from the
// tests: the files here must be what the generator makes now (`go generate ./shared/model` rewrites them).
func TestKernelFiles_AreGenerated(t *testing.T) {
	files, err := kernelgen.Files(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("kernelgen made %d files, want 4", len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what kernelgen generates now: run `go generate ./shared/model`", name)
		}
	}
}
