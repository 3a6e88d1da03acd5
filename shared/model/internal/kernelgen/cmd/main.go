// Command cmd writes package model's generated kernel files (see package kernelgen) into the current folder,
// which must be shared/model: `go generate ./shared/model`.
package main

import (
	"fmt"
	"os"

	"digitpad/shared/model/internal/kernelgen"
)

func main() {
	if err := kernelgen.Write(".", "."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
