// Package open opens a registry from the location users give on the command line or in the environment:
//
//	--registry DIR                                   the embedded registry in DIR (created when missing)
//	--registry postgres://... --registry-blobs s3://BUCKET/PREFIX
//	                                                 the scale-out registry: metadata in PostgreSQL, files in S3
//
// DIGITPAD_REGISTRY and DIGITPAD_REGISTRY_BLOBS give the same values when the flags are not set. S3 credentials,
// region and endpoint come from the AWS SDK's usual sources (see registry/s3blob).
package open

import (
	"context"
	"errors"
	"strings"

	"digitpad/registry"
	"digitpad/registry/fs"
	"digitpad/registry/scaleout"
)

// Environment variables that stand in for --registry and --registry-blobs.
const (
	EnvRegistry = "DIGITPAD_REGISTRY"
	EnvBlobs    = "DIGITPAD_REGISTRY_BLOBS"
)

// Location is where a registry lives.
type Location struct {
	// Registry is a directory or a PostgreSQL DSN.
	Registry string
	// Blobs is the S3 URL for files (required with PostgreSQL, unused with a directory).
	Blobs string
}

// IsPostgres reports whether s is a PostgreSQL DSN (URL or key=value form) rather than a directory.
func IsPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") ||
		(strings.Contains(s, "host=") && strings.Contains(s, " "))
}

// Open opens the registry and bootstraps it (a new registry gets the shipped model as version 1 in production).
func Open(ctx context.Context, loc Location, opt registry.Options) (*registry.Registry, error) {
	if loc.Registry == "" {
		return nil, errors.New("no registry: give --registry DIR or --registry postgres://... with --registry-blobs s3://...")
	}
	var r *registry.Registry
	var err error
	if IsPostgres(loc.Registry) {
		r, err = scaleout.Open(ctx, loc.Registry, loc.Blobs, opt)
	} else {
		r, err = fs.Open(ctx, loc.Registry, opt)
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.Bootstrap(ctx); err != nil {
		if !errors.Is(err, registry.ErrNotFound) {
			r.Close()
			return nil, err
		}
		if opt.Logger != nil {
			opt.Logger.Warn("registry: " + err.Error())
		}
	}
	return r, nil
}
