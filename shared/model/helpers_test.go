package model_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/owulveryck/onnx-go"
)

// onnxGoDir finds the onnx-go module with the go command, or from ONNX_GO_DIR where there is no go command to run
// (GOOS=js tests under node: ONNX_GO_DIR=$(go list -m -f '{{.Dir}}' github.com/owulveryck/onnx-go)).
var onnxGoDir = sync.OnceValues(func() (string, error) {
	if d := os.Getenv("ONNX_GO_DIR"); d != "" {
		return d, nil
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owulveryck/onnx-go").Output()
	return strings.TrimSpace(string(out)), err
})

// zooDir is onnx-go's copy of the ONNX zoo MNIST model (CNTK mnist-7) and its test data.
func zooDir(tb testing.TB) string {
	tb.Helper()
	dir, err := onnxGoDir()
	if err != nil || dir == "" {
		tb.Fatalf("locating onnx-go module: %v", err)
	}
	return filepath.Join(dir, "internal", "examples", "mnist")
}

// zooModel returns the zoo model's bytes, which onnx-go ships as a Go string literal in mnist_binary.go.
func zooModel(tb testing.TB) []byte {
	tb.Helper()
	fs := token.NewFileSet()
	f, err := parser.ParseFile(fs, filepath.Join(zooDir(tb), "mnist_binary.go"), nil, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var b []byte
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && b == nil {
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				tb.Fatal(err)
			}
			b = []byte(s)
		}
		return b == nil
	})
	if len(b) == 0 {
		tb.Fatal("no model literal in mnist_binary.go")
	}
	return b
}

// readTensorFile reads an ONNX TensorProto file as float32s.
func readTensorFile(tb testing.TB, path string) []float32 {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	t, err := onnx.NewTensor(b)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	d, ok := t.Data().([]float32)
	if !ok {
		tb.Fatalf("%s: data is %T, want []float32", path, t.Data())
	}
	return d
}
