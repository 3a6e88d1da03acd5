// Package zoo finds the ONNX zoo MNIST model (CNTK mnist-7) and its test data in the onnx-go module, which ships
// the model as a Go string literal (internal/examples/mnist/mnist_binary.go). Tests and tools use it as an
// independent reference model; nothing downloads at run time.
package zoo

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Dir is the folder with mnist_binary.go and the test_data_set_* folders. It asks the go command where the
// onnx-go module is, or reads ONNX_GO_DIR where there is no go command to run (GOOS=js tests under node:
// ONNX_GO_DIR=$(go list -m -f '{{.Dir}}' github.com/owulveryck/onnx-go)).
func Dir() (string, error) {
	mod := os.Getenv("ONNX_GO_DIR")
	if mod == "" {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owulveryck/onnx-go").Output()
		if err != nil {
			return "", fmt.Errorf("zoo: locating onnx-go: %w", err)
		}
		mod = strings.TrimSpace(string(out))
	}
	if mod == "" {
		return "", errors.New("zoo: onnx-go module not found")
	}
	return filepath.Join(mod, "internal", "examples", "mnist"), nil
}

// Model returns the zoo model's ONNX bytes.
func Model() ([]byte, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "mnist_binary.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("zoo: %w", err)
	}
	var b []byte
	var uerr error
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && b == nil && uerr == nil {
			s, err := strconv.Unquote(lit.Value)
			b, uerr = []byte(s), err
		}
		return b == nil && uerr == nil
	})
	if uerr != nil {
		return nil, fmt.Errorf("zoo: %s: %w", path, uerr)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("zoo: no model literal in %s", path)
	}
	return b, nil
}
