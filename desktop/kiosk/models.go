package kiosk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MaxModelBytes bounds a downloaded model; digit models are well under a megabyte.
const MaxModelBytes = 64 << 20

// ErrHashMismatch is returned when model bytes do not hash to the announced sha256.
var ErrHashMismatch = errors.New("model sha256 mismatch")

// ModelStore keeps verified models on disk as DIR/<sha256>.onnx, with a small card DIR/<sha256>.json naming
// each. A file is only ever used after its bytes hash to its name, so a torn download or a flipped bit is
// never loaded. The most recently activated model has the newest modification time.
type ModelStore struct {
	dir string
}

// OpenModelStore opens (creating) the model folder.
func OpenModelStore(dir string) (*ModelStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("model folder: %w", err)
	}
	return &ModelStore{dir: dir}, nil
}

// StoredModel is a verified model read from the store.
type StoredModel struct {
	SHA256 string
	Name   string
	ONNX   []byte
	// Card is the model card JSON kept beside the model (may be nil).
	Card []byte
}

func (s *ModelStore) path(sha, ext string) string { return filepath.Join(s.dir, sha+ext) }

// Load reads and verifies the model with the given sha256.
func (s *ModelStore) Load(sha string) (*StoredModel, error) {
	if !isSHA256(sha) {
		return nil, fmt.Errorf("model store: %q is not a sha256", sha)
	}
	b, err := os.ReadFile(s.path(sha, ".onnx"))
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	if got := hashHex(b); got != sha {
		return nil, fmt.Errorf("model store: %s.onnx hashes to %s: %w", sha, got, ErrHashMismatch)
	}
	m := &StoredModel{SHA256: sha, ONNX: b}
	if card, err := os.ReadFile(s.path(sha, ".json")); err == nil {
		m.Card = card
		var c struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(card, &c) == nil {
			m.Name = c.Name
		}
	}
	return m, nil
}

// Newest returns the verified model activated most recently, or nil when there is none. Files that fail
// verification are skipped and reported in skipped.
func (s *ModelStore) Newest() (m *StoredModel, skipped []error, err error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("model store: %w", err)
	}
	type cand struct {
		sha string
		mod time.Time
	}
	var cands []cand
	for _, e := range ents {
		sha, ok := strings.CutSuffix(e.Name(), ".onnx")
		if !ok || !isSHA256(sha) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		cands = append(cands, cand{sha, info.ModTime()})
	}
	for len(cands) > 0 {
		best := 0
		for i, c := range cands {
			if c.mod.After(cands[best].mod) || c.mod.Equal(cands[best].mod) && c.sha < cands[best].sha {
				best = i
			}
		}
		m, err := s.Load(cands[best].sha)
		if err == nil {
			return m, skipped, nil
		}
		skipped = append(skipped, err)
		cands = append(cands[:best], cands[best+1:]...)
	}
	return nil, skipped, nil
}

// Has reports whether a verified copy of the model is on disk.
func (s *ModelStore) Has(sha string) bool {
	_, err := s.Load(sha)
	return err == nil
}

// Touch marks a model as the most recently activated one.
func (s *ModelStore) Touch(sha string, at time.Time) error {
	if err := os.Chtimes(s.path(sha, ".onnx"), at, at); err != nil {
		return fmt.Errorf("model store: %w", err)
	}
	return nil
}

// Save streams model bytes to disk, keeping them only when they hash to sha. The file appears under its final
// name only after it was written completely and fsync'd.
func (s *ModelStore) Save(sha, name string, r io.Reader) error {
	if !isSHA256(sha) {
		return fmt.Errorf("model store: %q is not a sha256", sha)
	}
	tmp, err := os.CreateTemp(s.dir, ".download-*")
	if err != nil {
		return fmt.Errorf("model store: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, MaxModelBytes+1))
	if err == nil && n > MaxModelBytes {
		err = fmt.Errorf("model larger than %d bytes", MaxModelBytes)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("model store: write %s: %w", sha, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		return fmt.Errorf("model store: downloaded bytes hash to %s, announced %s: %w", got, sha, ErrHashMismatch)
	}
	card, _ := json.Marshal(map[string]string{"name": name, "sha256": sha})
	if err := writeFileSync(s.path(sha, ".json"), card); err != nil {
		return fmt.Errorf("model store: card: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path(sha, ".onnx")); err != nil {
		return fmt.Errorf("model store: %w", err)
	}
	return syncDir(s.dir)
}

// SetCard replaces the card kept beside a stored model (the server's card, with its calibration, instead of the
// name-only one Save writes). The model must be stored already.
func (s *ModelStore) SetCard(sha string, card []byte) error {
	if !s.Has(sha) {
		return fmt.Errorf("model store: no model %s for its card", sha)
	}
	if !json.Valid(card) {
		return fmt.Errorf("model store: card for %s is not JSON", sha)
	}
	if err := writeFileSync(s.path(sha, ".json"), card); err != nil {
		return fmt.Errorf("model store: card: %w", err)
	}
	return nil
}

// Download fetches a model from url (sending the bearer token when set) and saves it if it hashes to sha.
func (s *ModelStore) Download(ctx context.Context, client *http.Client, url, token, sha, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("model download: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("model download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("model download %s: status %s", url, resp.Status)
	}
	return s.Save(sha, name, resp.Body)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// writeFileSync writes a file through a temporary name and fsyncs it, so readers see the old or the new
// content, never a torn one.
func writeFileSync(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
