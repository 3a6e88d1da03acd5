package main

import (
	"context"
	"fmt"
	"os"

	"digitpad/quantize"
)

func main() {
	if err := quantize.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
