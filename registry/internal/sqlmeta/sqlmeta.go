// Package sqlmeta is registry.Meta over database/sql, with one set of statements for SQLite (modernc.org/sqlite)
// and PostgreSQL (pgx's database/sql driver). Every mutation runs in a transaction that first bumps the single
// row of registry_state: that row lock serialises all registry writers, across processes and replicas, which
// makes version numbering and compare-and-set alias moves exact; its value is the change sequence watchers poll.
package sqlmeta

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"digitpad/registry"
)

// Schema creates the registry tables (idempotent); the same text works on SQLite and PostgreSQL.
var Schema = []string{
	`CREATE TABLE IF NOT EXISTS registry_state (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL)`,
	`INSERT INTO registry_state (id, seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS registry_models (
		name TEXT PRIMARY KEY,
		description TEXT NOT NULL,
		created_us BIGINT NOT NULL,
		updated_us BIGINT NOT NULL,
		tags TEXT NOT NULL,
		latest_version INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS registry_versions (
		model TEXT NOT NULL REFERENCES registry_models (name),
		version INTEGER NOT NULL,
		created_us BIGINT NOT NULL,
		created_by TEXT NOT NULL,
		description TEXT NOT NULL,
		source TEXT NOT NULL,
		files TEXT NOT NULL,
		metrics TEXT NOT NULL,
		lineage TEXT NOT NULL,
		tags TEXT NOT NULL,
		PRIMARY KEY (model, version))`,
	`CREATE TABLE IF NOT EXISTS registry_aliases (
		model TEXT NOT NULL,
		alias TEXT NOT NULL,
		version INTEGER NOT NULL,
		PRIMARY KEY (model, alias),
		FOREIGN KEY (model, version) REFERENCES registry_versions (model, version))`,
	`CREATE TABLE IF NOT EXISTS registry_alias_history (
		seq BIGINT PRIMARY KEY,
		model TEXT NOT NULL,
		alias TEXT NOT NULL,
		from_version INTEGER NOT NULL,
		to_version INTEGER NOT NULL,
		by_whom TEXT NOT NULL,
		at_us BIGINT NOT NULL,
		reason TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS registry_alias_history_alias ON registry_alias_history (model, alias, seq)`,
}

// Meta implements registry.Meta.
type Meta struct {
	db    *sql.DB
	close func() error
	// Notify is a PostgreSQL channel that every mutation notifies (pg_notify, delivered on commit) with the new
	// change sequence; empty for SQLite.
	Notify string
}

var _ registry.Meta = (*Meta)(nil)

// New wraps an open database whose schema is applied (Migrate); closeFn (may be nil) runs on Close after db.Close.
func New(db *sql.DB, closeFn func() error) *Meta { return &Meta{db: db, close: closeFn} }

// Migrate applies Schema in one transaction, after the statements in lock (e.g. an advisory lock, so two
// processes creating the tables at once do not collide).
func Migrate(ctx context.Context, db *sql.DB, lock ...string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("registry schema: %w", err)
	}
	defer tx.Rollback()
	for _, s := range append(lock, Schema...) {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("registry schema: %w", err)
		}
	}
	return tx.Commit()
}

// Close closes the database.
func (m *Meta) Close() error {
	err := m.db.Close()
	if m.close != nil {
		err = errors.Join(err, m.close())
	}
	return err
}

func us(t time.Time) int64       { return t.UnixMicro() }
func fromUS(v int64) time.Time   { return time.UnixMicro(v).UTC() }
func js(v any) string            { b, _ := json.Marshal(v); return string(b) }
func unjs(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// mutate runs fn in a transaction that holds the registry's write lock; seq is the new change sequence.
func (m *Meta) mutate(ctx context.Context, fn func(tx *sql.Tx, seq int64) error) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("registry: begin: %w", err)
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE registry_state SET seq = seq + 1 WHERE id = 1 RETURNING seq`).Scan(&seq); err != nil {
		return fmt.Errorf("registry: lock: %w", err)
	}
	if m.Notify != "" {
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, m.Notify, fmt.Sprint(seq)); err != nil {
			return fmt.Errorf("registry: notify: %w", err)
		}
	}
	if err := fn(tx, seq); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("registry: commit: %w", err)
	}
	return nil
}

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func isUnique(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "unique") || strings.Contains(s, "duplicate key")
}

// CreateModel implements registry.Meta.
func (m *Meta) CreateModel(ctx context.Context, md registry.Model) error {
	tags := md.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return m.mutate(ctx, func(tx *sql.Tx, _ int64) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO registry_models (name, description, created_us, updated_us, tags, latest_version)
			VALUES ($1, $2, $3, $4, $5, 0)`, md.Name, md.Description, us(md.CreatedAt), us(md.UpdatedAt), js(tags))
		if err != nil && isUnique(err) {
			return fmt.Errorf("model %s: %w", md.Name, registry.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("create model %s: %w", md.Name, err)
		}
		return nil
	})
}

func getModel(ctx context.Context, q querier, name string) (registry.Model, error) {
	var md registry.Model
	var c, u int64
	var tags string
	err := q.QueryRowContext(ctx, `SELECT name, description, created_us, updated_us, tags, latest_version
		FROM registry_models WHERE name = $1`, name).Scan(&md.Name, &md.Description, &c, &u, &tags, &md.LatestVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return md, fmt.Errorf("model %s: %w", name, registry.ErrNotFound)
	}
	if err != nil {
		return md, fmt.Errorf("get model %s: %w", name, err)
	}
	md.CreatedAt, md.UpdatedAt = fromUS(c), fromUS(u)
	if err := unjs(tags, &md.Tags); err != nil {
		return md, fmt.Errorf("model %s tags: %w", name, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT alias, version FROM registry_aliases WHERE model = $1`, name)
	if err != nil {
		return md, fmt.Errorf("get model %s aliases: %w", name, err)
	}
	defer rows.Close()
	md.Aliases = map[string]int{}
	for rows.Next() {
		var a string
		var v int
		if err := rows.Scan(&a, &v); err != nil {
			return md, err
		}
		md.Aliases[a] = v
	}
	return md, rows.Err()
}

// GetModel implements registry.Meta.
func (m *Meta) GetModel(ctx context.Context, name string) (registry.Model, error) {
	return getModel(ctx, m.db, name)
}

// ListModels implements registry.Meta.
func (m *Meta) ListModels(ctx context.Context) ([]registry.Model, error) {
	rows, err := m.db.QueryContext(ctx, `SELECT name FROM registry_models ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	out := make([]registry.Model, 0, len(names))
	for _, n := range names {
		md, err := m.GetModel(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, md)
	}
	return out, nil
}

// SetModelTag implements registry.Meta.
func (m *Meta) SetModelTag(ctx context.Context, name, key string, value *string, at time.Time) error {
	return m.mutate(ctx, func(tx *sql.Tx, _ int64) error {
		md, err := getModel(ctx, tx, name)
		if err != nil {
			return err
		}
		if md.Tags == nil {
			md.Tags = map[string]string{}
		}
		if value == nil {
			delete(md.Tags, key)
		} else {
			md.Tags[key] = *value
		}
		_, err = tx.ExecContext(ctx, `UPDATE registry_models SET tags = $1, updated_us = $2 WHERE name = $3`, js(md.Tags), us(at), name)
		return err
	})
}

// AddVersion implements registry.Meta.
func (m *Meta) AddVersion(ctx context.Context, v registry.Version) (int, error) {
	var n int
	err := m.mutate(ctx, func(tx *sql.Tx, _ int64) error {
		md, err := getModel(ctx, tx, v.Model)
		if err != nil {
			return err
		}
		n = md.LatestVersion + 1
		tags, metrics := v.Tags, v.Metrics
		if tags == nil {
			tags = map[string]string{}
		}
		if metrics == nil {
			metrics = map[string]float64{}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO registry_versions
			(model, version, created_us, created_by, description, source, files, metrics, lineage, tags)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			v.Model, n, us(v.CreatedAt), v.CreatedBy, v.Description, v.Source, js(v.Files), js(metrics), js(v.Lineage), js(tags)); err != nil {
			return fmt.Errorf("add version: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE registry_models SET latest_version = $1, updated_us = $2 WHERE name = $3`, n, us(v.CreatedAt), v.Model)
		return err
	})
	return n, err
}

const versionCols = `model, version, created_us, created_by, description, source, files, metrics, lineage, tags`

func scanVersion(sc interface{ Scan(...any) error }) (registry.Version, error) {
	var v registry.Version
	var c int64
	var files, metrics, lineage, tags string
	if err := sc.Scan(&v.Model, &v.Version, &c, &v.CreatedBy, &v.Description, &v.Source, &files, &metrics, &lineage, &tags); err != nil {
		return v, err
	}
	v.CreatedAt = fromUS(c)
	if err := errors.Join(unjs(files, &v.Files), unjs(metrics, &v.Metrics), unjs(lineage, &v.Lineage), unjs(tags, &v.Tags)); err != nil {
		return v, fmt.Errorf("version %d: %w", v.Version, err)
	}
	if len(v.Metrics) == 0 {
		v.Metrics = nil
	}
	if len(v.Tags) == 0 {
		v.Tags = nil
	}
	return v, nil
}

func getVersion(ctx context.Context, q querier, name string, version int) (registry.Version, error) {
	v, err := scanVersion(q.QueryRowContext(ctx, `SELECT `+versionCols+` FROM registry_versions WHERE model = $1 AND version = $2`, name, version))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("version %d of model %s: %w", version, name, registry.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("get version %d of %s: %w", version, name, err)
	}
	return v, nil
}

// GetVersion implements registry.Meta.
func (m *Meta) GetVersion(ctx context.Context, name string, version int) (registry.Version, error) {
	return getVersion(ctx, m.db, name, version)
}

// ListVersions implements registry.Meta.
func (m *Meta) ListVersions(ctx context.Context, name string) ([]registry.Version, error) {
	if _, err := m.GetModel(ctx, name); err != nil {
		return nil, err
	}
	rows, err := m.db.QueryContext(ctx, `SELECT `+versionCols+` FROM registry_versions WHERE model = $1 ORDER BY version`, name)
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", name, err)
	}
	defer rows.Close()
	var out []registry.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SetVersionTag implements registry.Meta.
func (m *Meta) SetVersionTag(ctx context.Context, name string, version int, key string, value *string) error {
	return m.mutate(ctx, func(tx *sql.Tx, _ int64) error {
		v, err := getVersion(ctx, tx, name, version)
		if err != nil {
			return err
		}
		if v.Tags == nil {
			v.Tags = map[string]string{}
		}
		if value == nil {
			delete(v.Tags, key)
		} else {
			v.Tags[key] = *value
		}
		_, err = tx.ExecContext(ctx, `UPDATE registry_versions SET tags = $1 WHERE model = $2 AND version = $3`, js(v.Tags), name, version)
		return err
	})
}

// DeleteVersion implements registry.Meta.
func (m *Meta) DeleteVersion(ctx context.Context, name string, version int) error {
	return m.mutate(ctx, func(tx *sql.Tx, _ int64) error {
		if _, err := getVersion(ctx, tx, name, version); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT alias FROM registry_aliases WHERE model = $1 AND version = $2 ORDER BY alias`, name, version)
		if err != nil {
			return err
		}
		var aliases []string
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				rows.Close()
				return err
			}
			aliases = append(aliases, a)
		}
		rows.Close()
		if len(aliases) > 0 {
			return fmt.Errorf("version %d of %s: aliases %v point at it, move them first: %w", version, name, aliases, registry.ErrInUse)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM registry_versions WHERE model = $1 AND version = $2`, name, version)
		return err
	})
}

// MoveAlias implements registry.Meta.
func (m *Meta) MoveAlias(ctx context.Context, name, alias string, expect, to int, by, reason string, at time.Time) (registry.AliasMove, error) {
	mv := registry.AliasMove{Model: name, Alias: alias, To: to, By: by, At: at.UTC().Truncate(time.Microsecond), Reason: reason}
	err := m.mutate(ctx, func(tx *sql.Tx, seq int64) error {
		if _, err := getModel(ctx, tx, name); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT version FROM registry_aliases WHERE model = $1 AND alias = $2`, name, alias).Scan(&mv.From)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read alias %s: %w", alias, err)
		}
		if expect != registry.ExpectAny && expect != mv.From {
			return fmt.Errorf("alias %s of %s points at version %d, not the expected %d: %w", alias, name, mv.From, expect, registry.ErrConflict)
		}
		if to == 0 {
			if mv.From == 0 {
				return fmt.Errorf("alias %s of %s: %w", alias, name, registry.ErrNotFound)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM registry_aliases WHERE model = $1 AND alias = $2`, name, alias); err != nil {
				return err
			}
		} else {
			if _, err := getVersion(ctx, tx, name, to); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO registry_aliases (model, alias, version) VALUES ($1, $2, $3)
				ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version`, name, alias, to); err != nil {
				return fmt.Errorf("set alias %s: %w", alias, err)
			}
		}
		mv.Seq = seq
		_, err = tx.ExecContext(ctx, `INSERT INTO registry_alias_history (seq, model, alias, from_version, to_version, by_whom, at_us, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, seq, name, alias, mv.From, to, by, us(mv.At), reason)
		return err
	})
	return mv, err
}

// AliasHistory implements registry.Meta.
func (m *Meta) AliasHistory(ctx context.Context, name, alias string) ([]registry.AliasMove, error) {
	rows, err := m.db.QueryContext(ctx, `SELECT seq, model, alias, from_version, to_version, by_whom, at_us, reason
		FROM registry_alias_history WHERE model = $1 AND ($2 = '' OR alias = $2) ORDER BY seq`, name, alias)
	if err != nil {
		return nil, fmt.Errorf("alias history: %w", err)
	}
	defer rows.Close()
	var out []registry.AliasMove
	for rows.Next() {
		var mv registry.AliasMove
		var at int64
		if err := rows.Scan(&mv.Seq, &mv.Model, &mv.Alias, &mv.From, &mv.To, &mv.By, &at, &mv.Reason); err != nil {
			return nil, err
		}
		mv.At = fromUS(at)
		out = append(out, mv)
	}
	return out, rows.Err()
}

// Seq implements registry.Meta.
func (m *Meta) Seq(ctx context.Context) (int64, error) {
	var s int64
	if err := m.db.QueryRowContext(ctx, `SELECT seq FROM registry_state WHERE id = 1`).Scan(&s); err != nil {
		return 0, fmt.Errorf("registry seq: %w", err)
	}
	return s, nil
}
