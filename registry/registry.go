// Package registry is digitpad's model registry: registered models (normally one, "digitpad"), immutable numbered
// versions (the ONNX file, its int8/fp16 variants, browser graph files and model cards, each with its sha256, plus
// metrics and lineage), tags, and aliases ("production", "candidate", ...) moved by compare-and-set with a full
// history of who moved which alias when, from which version to which, and why.
//
// The concepts follow MLflow's Model Registry. A Registry is the one place with the rules (validation before
// registration, compare-and-set, rollback, the shipped model as version 1); it runs over a Backend, which only
// stores: registry/fs (a directory with SQLite and blob files, the embedded default) and registry/scaleout
// (PostgreSQL metadata, S3 blobs). registry/registrytest is the conformance suite every backend passes.
package registry

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultModel is the registered model digitpad's commands use.
const DefaultModel = "digitpad"

// Well-known aliases.
const (
	Production = "production"
	Candidate  = "candidate"
)

// Errors a Registry returns; test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrConflict: an alias did not point where a compare-and-set move expected (someone else moved it first).
	ErrConflict = errors.New("conflict")
	// ErrInUse: a version an alias points to cannot be deleted.
	ErrInUse = errors.New("in use")
	// ErrInvalid: a refused upload or argument (corrupt or unsupported model, sha256 mismatch, bad name).
	ErrInvalid = errors.New("invalid")
)

// Model is a registered model.
type Model struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	Tags        map[string]string `json:"tags,omitempty"`
	// Aliases maps alias -> version.
	Aliases map[string]int `json:"aliases,omitempty"`
	// LatestVersion is the highest version number ever assigned (0: none); numbers are never reused.
	LatestVersion int `json:"latest_version"`
}

// File is one stored file of a version.
type File struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Lineage says where a version came from.
type Lineage struct {
	// Parent is the version this one was trained from (0: none).
	Parent int `json:"parent,omitempty"`
	// DataDigest is the digest of the training data snapshot.
	DataDigest string `json:"data_digest,omitempty"`
	// FeedbackFrom and FeedbackTo bound the feedback records used (store ids or times, as the trainer names them).
	FeedbackFrom string `json:"feedback_from,omitempty"`
	FeedbackTo   string `json:"feedback_to,omitempty"`
	// CodeVersion is the digitpad build (VCS revision) that made the model.
	CodeVersion string `json:"code_version,omitempty"`
	Seed        int64  `json:"seed,omitempty"`
	// Command is the command line that made the model.
	Command string `json:"command,omitempty"`
}

// Version is an immutable registered model version.
type Version struct {
	Model       string             `json:"model"`
	Version     int                `json:"version"`
	CreatedAt   time.Time          `json:"created_at"`
	CreatedBy   string             `json:"created_by,omitempty"`
	Description string             `json:"description,omitempty"`
	Source      string             `json:"source,omitempty"`
	Files       []File             `json:"files"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Lineage     Lineage            `json:"lineage"`
	Tags        map[string]string  `json:"tags,omitempty"`
	// Aliases pointing at this version (filled by the Registry on reads).
	Aliases []string `json:"aliases,omitempty"`
}

// File returns the named file's entry.
func (v Version) File(name string) (File, bool) {
	for _, f := range v.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// AliasMove is one entry of an alias's history. From or To is 0 when the alias did not exist before or was
// deleted.
type AliasMove struct {
	Seq    int64     `json:"seq"`
	Model  string    `json:"model"`
	Alias  string    `json:"alias"`
	From   int       `json:"from"`
	To     int       `json:"to"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// Expect values for compare-and-set alias moves besides a version number.
const (
	// ExpectAny moves the alias wherever it points.
	ExpectAny = -1
	// ExpectNone requires that the alias does not exist yet.
	ExpectNone = 0
)

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	aliasRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
)

// ValidName checks a registered model name.
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: model name %q: want letters, digits, '.', '_' or '-' (at most 128)", ErrInvalid, name)
	}
	return nil
}

// ValidAlias checks an alias: a letter, then letters, digits, '_' or '-'. Aliases that look like version numbers
// ("v7", "7") are refused so URIs stay unambiguous, as in MLflow.
func ValidAlias(alias string) error {
	if !aliasRE.MatchString(alias) || regexp.MustCompile(`^[vV][0-9]+$`).MatchString(alias) {
		return fmt.Errorf("%w: alias %q: want a letter then letters, digits, '_' or '-', not v<number>", ErrInvalid, alias)
	}
	return nil
}

// Ref names a version: by number (Version > 0) or by alias.
type Ref struct {
	Model   string
	Version int
	Alias   string
}

// String is the MLflow URI form: models:/NAME/N or models:/NAME@ALIAS.
func (r Ref) String() string {
	if r.Alias != "" {
		return "models:/" + r.Model + "@" + r.Alias
	}
	return "models:/" + r.Model + "/" + strconv.Itoa(r.Version)
}

// IsURI reports whether s is a models:/ URI (as opposed to a file path).
func IsURI(s string) bool { return strings.HasPrefix(s, "models:/") }

// ParseURI parses models:/NAME@ALIAS or models:/NAME/VERSION.
func ParseURI(s string) (Ref, error) {
	rest, ok := strings.CutPrefix(s, "models:/")
	if !ok {
		return Ref{}, fmt.Errorf("%w: model URI %q: want models:/NAME@ALIAS or models:/NAME/VERSION", ErrInvalid, s)
	}
	if name, alias, ok := strings.Cut(rest, "@"); ok {
		if err := ValidName(name); err != nil {
			return Ref{}, err
		}
		if err := ValidAlias(alias); err != nil {
			return Ref{}, err
		}
		return Ref{Model: name, Alias: alias}, nil
	}
	if name, v, ok := strings.Cut(rest, "/"); ok {
		if err := ValidName(name); err != nil {
			return Ref{}, err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Ref{}, fmt.Errorf("%w: model URI %q: version must be a positive number", ErrInvalid, s)
		}
		return Ref{Model: name, Version: n}, nil
	}
	return Ref{}, fmt.Errorf("%w: model URI %q: want models:/NAME@ALIAS or models:/NAME/VERSION", ErrInvalid, s)
}

// ParseVersionRef parses what the CLI accepts for a version: "7", "v7", "@production", or a models:/ URI.
func ParseVersionRef(model, s string) (Ref, error) {
	if IsURI(s) {
		return ParseURI(s)
	}
	if a, ok := strings.CutPrefix(s, "@"); ok {
		if err := ValidAlias(a); err != nil {
			return Ref{}, err
		}
		return Ref{Model: model, Alias: a}, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V"))
	if err != nil || n < 1 {
		return Ref{}, fmt.Errorf("%w: version %q: want a number, @ALIAS or a models:/ URI", ErrInvalid, s)
	}
	return Ref{Model: model, Version: n}, nil
}
