// Package blobdir stores registry blobs as files in a directory: written to a temporary file, synced, then renamed
// into place, so a reader never sees a partial file and a crash leaves at most a stray temporary file.
package blobdir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"digitpad/registry"
)

// Dir implements registry.Blobs.
type Dir struct{ root string }

var _ registry.Blobs = (*Dir)(nil)

// Open uses (creating) the directory root.
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("registry blobs: %w", err)
	}
	return &Dir{root: root}, nil
}

func (d *Dir) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("%w: blob key %q", registry.ErrInvalid, key)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put implements registry.Blobs.
func (d *Dir) Put(_ context.Context, key string, data []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("put %s: %w", key, err)
	}
	if dir, err := os.Open(filepath.Dir(p)); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return nil
}

// Get implements registry.Blobs.
func (d *Dir) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", key, registry.ErrNotFound)
	}
	return b, err
}

// Exists implements registry.Blobs.
func (d *Dir) Exists(_ context.Context, key string) (bool, error) {
	p, err := d.path(key)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Delete implements registry.Blobs.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// List implements registry.Blobs.
func (d *Dir) List(_ context.Context, prefix string) ([]registry.BlobInfo, error) {
	var out []registry.BlobInfo
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		out = append(out, registry.BlobInfo{Key: key, Modified: info.ModTime()})
		return nil
	})
	return out, err
}

// Close implements registry.Blobs.
func (d *Dir) Close() error { return nil }
