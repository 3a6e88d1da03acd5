package fs_test

import (
	"context"
	"testing"

	"digitpad/registry"
	"digitpad/registry/fs"
	"digitpad/registry/registrytest"
)

func TestConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) func() *registry.Registry {
		dir := t.TempDir()
		return func() *registry.Registry {
			r, err := fs.Open(context.Background(), dir, registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	})
}
