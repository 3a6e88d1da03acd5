package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"digitpad/registry"
	"digitpad/registry/open"
	"digitpad/shared/recognize/onnxrec"
)

// registryFlags are --registry and --registry-blobs, shared by every command that takes a models:/ URI.
type registryFlags struct{ loc open.Location }

// defaultRegistryDir is `digitpad serve`'s default (DATA/registry with the default data folder).
const defaultRegistryDir = "data/registry"

func addRegistryFlags(fs *flag.FlagSet) *registryFlags {
	rf := &registryFlags{}
	def := os.Getenv(open.EnvRegistry)
	if def == "" {
		def = defaultRegistryDir
	}
	fs.StringVar(&rf.loc.Registry, "registry", def, "model registry: a directory (embedded, created when missing) or a PostgreSQL DSN (then --registry-blobs); env "+open.EnvRegistry)
	fs.StringVar(&rf.loc.Blobs, "registry-blobs", os.Getenv(open.EnvBlobs), "S3 URL for the registry's files with a PostgreSQL registry: s3://BUCKET/PREFIX (credentials, region, endpoint: AWS_* environment as for the AWS SDK); env "+open.EnvBlobs)
	return rf
}

func (rf *registryFlags) open(ctx context.Context) (*registry.Registry, error) {
	return open.Open(ctx, rf.loc, registry.Options{})
}

// loadModelFrom is loadModel that also takes models:/NAME@ALIAS and models:/NAME/VERSION (read from the registry,
// verified against their sha256s).
func loadModelFrom(ctx context.Context, path, variant string, rf *registryFlags) (*onnxrec.Model, error) {
	if !registry.IsURI(path) {
		return loadModel(path, variant)
	}
	ref, err := registry.ParseURI(path)
	if err != nil {
		return nil, err
	}
	reg, err := rf.open(ctx)
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	v, err := reg.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !v.HasVariant(variant) {
		return nil, fmt.Errorf("%s (version %d) has no %s variant", path, v.Version, variant)
	}
	data, cardJSON, _, err := reg.Variant(ctx, v, variant)
	if err != nil {
		return nil, err
	}
	m, err := onnxrec.Load(data, cardJSON)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return m, nil
}

// parseInterleaved parses flags that may come before, between or after positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func whoAmI() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		name += "@" + h
	}
	return name
}

const registryUsage = `digitpad registry SUBCOMMAND [flags]

  list                              the model's versions and aliases
  show VERSION                      one version (VERSION: N, @ALIAS or models:/NAME/N)
  register FILE.onnx                register a model (FILE.json card, FILE-int8.onnx / FILE-fp16.onnx variants
                                    beside it are included); --alias NAME points an alias at it
  promote [--expect V] ALIAS VERSION move an alias, compare-and-set against V (0: alias must not exist)
  rollback ALIAS                    move an alias back to where it pointed before its last move
  history ALIAS                     every move of an alias (who, when, from, to, why); --all for all aliases;
                                    --at TIME: the version the alias pointed at then
  tag VERSION KEY=VALUE...          set version tags (KEY= deletes); --model-tag sets the model's tags
  delete VERSION                    delete a version no alias points at
  gc                                delete stored files no version uses, older than --grace (crash leftovers)

Every subcommand takes --registry, --registry-blobs, --name (default digitpad) and --json.`

func runRegistry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: "+registryUsage)
		if len(args) == 0 {
			return errors.New("registry: no subcommand given")
		}
		return flag.ErrHelp
	}
	sub, args := args[0], args[1:]
	fs := newFlags("registry "+sub, registryUsage, stderr)
	rf := addRegistryFlags(fs)
	name := fs.String("name", registry.DefaultModel, "registered model name")
	asJSON := fs.Bool("json", false, "print JSON")
	by := fs.String("by", whoAmI(), "who makes the change (recorded in the alias history)")
	reason := fs.String("reason", "", "why (recorded in the alias history)")
	expect := fs.Int("expect", registry.ExpectAny, "promote: the version the alias must point at now (0: must not exist; -1: any)")
	alias := fs.String("alias", "", "register: point this alias at the new version (e.g. candidate)")
	description := fs.String("description", "", "register: description")
	var lin registry.Lineage
	fs.IntVar(&lin.Parent, "parent", 0, "register: lineage: parent version")
	fs.StringVar(&lin.DataDigest, "data-digest", "", "register: lineage: digest of the training data snapshot")
	fs.StringVar(&lin.FeedbackFrom, "feedback-from", "", "register: lineage: first feedback record used")
	fs.StringVar(&lin.FeedbackTo, "feedback-to", "", "register: lineage: last feedback record used")
	fs.StringVar(&lin.CodeVersion, "code-version", "", "register: lineage: code version (default: this binary's VCS revision)")
	fs.Int64Var(&lin.Seed, "seed", 0, "register: lineage: training seed")
	fs.StringVar(&lin.Command, "command", "", "register: lineage: the command that made the model")
	metrics := fs.String("metrics", "", "register: metrics as KEY=NUMBER,KEY=NUMBER")
	reportDir := fs.String("report", "", "register: a folder whose plots and tables (png, svg, json, csv, txt, md, html) are stored with the version as report/NAME")
	modelTag := fs.Bool("model-tag", false, "tag: set tags of the registered model instead of a version")
	all := fs.Bool("all", false, "history: every alias")
	grace := fs.Duration("grace", time.Hour, "gc: keep unused files younger than this (registrations in progress)")
	at := fs.String("at", "", "history: print only the version the alias pointed at, at this time (RFC 3339, e.g. 2026-11-24T09:00:00Z)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	out := func(v any, text func(w io.Writer)) error {
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
		text(stdout)
		return nil
	}
	need := func(n int, what string) error {
		if len(pos) != n {
			return fmt.Errorf("registry %s: want %s, got %q", sub, what, pos)
		}
		return nil
	}
	reg, err := rf.open(ctx)
	if err != nil {
		return err
	}
	defer reg.Close()
	version := func(s string) (registry.Version, error) {
		ref, err := registry.ParseVersionRef(*name, s)
		if err != nil {
			return registry.Version{}, err
		}
		return reg.Resolve(ctx, ref)
	}
	switch sub {
	case "list":
		if err := need(0, "no arguments"); err != nil {
			return err
		}
		m, err := reg.Model(ctx, *name)
		if err != nil {
			return err
		}
		vs, err := reg.Versions(ctx, *name)
		if err != nil {
			return err
		}
		return out(struct {
			Model    registry.Model     `json:"model"`
			Versions []registry.Version `json:"versions"`
		}{m, vs}, func(w io.Writer) {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tCREATED\tBY\tALIASES\tVARIANTS\tFP32 SHA256\tDESCRIPTION")
			for _, v := range vs {
				var variants []string
				for _, vr := range registry.Variants {
					if v.HasVariant(vr) {
						variants = append(variants, vr)
					}
				}
				f, _ := v.File(registry.FileONNX)
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%.12s\t%s\n", v.Version, v.CreatedAt.Format(time.DateTime), v.CreatedBy,
					strings.Join(v.Aliases, ","), strings.Join(variants, ","), f.SHA256, v.Description)
			}
			tw.Flush()
		})
	case "show":
		if err := need(1, "VERSION"); err != nil {
			return err
		}
		v, err := version(pos[0])
		if err != nil {
			return err
		}
		return out(v, func(w io.Writer) {
			b, _ := json.MarshalIndent(v, "", "  ")
			fmt.Fprintln(w, string(b))
		})
	case "register":
		if err := need(1, "FILE.onnx"); err != nil {
			return err
		}
		u, err := uploadFromFile(pos[0])
		if err != nil {
			return err
		}
		if *reportDir != "" {
			if err := addReport(u, *reportDir); err != nil {
				return err
			}
		}
		if lin.CodeVersion == "" {
			lin.CodeVersion = codeVersion()
		}
		u.Lineage, u.Description, u.By, u.Source = lin, *description, *by, pos[0]
		if u.Metrics, err = parseMetrics(*metrics); err != nil {
			return err
		}
		v, err := reg.Register(ctx, *name, u)
		if err != nil {
			return err
		}
		if *alias != "" {
			if _, err := reg.SetAlias(ctx, *name, *alias, v.Version, *expect, *by, orDefault(*reason, "registered")); err != nil {
				return fmt.Errorf("registered version %d, but moving %s failed: %w", v.Version, *alias, err)
			}
			if v, err = reg.Version(ctx, *name, v.Version); err != nil {
				return err
			}
		}
		return out(v, func(w io.Writer) {
			fmt.Fprintf(w, "registered %s version %d (%d files)", *name, v.Version, len(v.Files))
			if len(v.Aliases) > 0 {
				fmt.Fprintf(w, ", aliases %s", strings.Join(v.Aliases, ","))
			}
			fmt.Fprintln(w)
		})
	case "promote":
		if err := need(2, "ALIAS VERSION"); err != nil {
			return err
		}
		v, err := version(pos[1])
		if err != nil {
			return err
		}
		mv, err := reg.SetAlias(ctx, *name, pos[0], v.Version, *expect, *by, *reason)
		if err != nil {
			return err
		}
		return out(mv, func(w io.Writer) { fmt.Fprintf(w, "%s: %d -> %d\n", mv.Alias, mv.From, mv.To) })
	case "rollback":
		if err := need(1, "ALIAS"); err != nil {
			return err
		}
		mv, err := reg.Rollback(ctx, *name, pos[0], *by, *reason)
		if err != nil {
			return err
		}
		return out(mv, func(w io.Writer) { fmt.Fprintf(w, "%s rolled back: %d -> %d\n", mv.Alias, mv.From, mv.To) })
	case "history":
		a := ""
		if !*all {
			if err := need(1, "ALIAS (or --all)"); err != nil {
				return err
			}
			a = pos[0]
		}
		if *at != "" {
			if a == "" {
				return errors.New("registry history --at: name one ALIAS")
			}
			t, err := time.Parse(time.RFC3339, *at)
			if err != nil {
				return fmt.Errorf("registry history --at: %w", err)
			}
			v, err := reg.AliasAt(ctx, *name, a, t)
			if err != nil {
				return err
			}
			return out(map[string]any{"alias": a, "at": t, "version": v}, func(w io.Writer) {
				fmt.Fprintf(w, "%s at %s: version %d\n", a, t.Format(time.RFC3339), v)
			})
		}
		h, err := reg.History(ctx, *name, a)
		if err != nil {
			return err
		}
		if h == nil {
			h = []registry.AliasMove{}
		}
		return out(h, func(w io.Writer) {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "#\tWHEN (UTC)\tALIAS\tFROM\tTO\tBY\tWHY")
			for _, mv := range h {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\t%s\n", mv.Seq, mv.At.Format(time.DateTime), mv.Alias, mv.From, mv.To, mv.By, mv.Reason)
			}
			tw.Flush()
		})
	case "tag":
		if *modelTag {
			if len(pos) == 0 {
				return errors.New("registry tag --model-tag: want KEY=VALUE...")
			}
			for _, kv := range pos {
				k, val, _ := strings.Cut(kv, "=")
				if val == "" {
					err = reg.DeleteModelTag(ctx, *name, k)
				} else {
					err = reg.SetModelTag(ctx, *name, k, val)
				}
				if err != nil {
					return err
				}
			}
			m, err := reg.Model(ctx, *name)
			if err != nil {
				return err
			}
			return out(m, func(w io.Writer) { fmt.Fprintf(w, "%s tags: %v\n", m.Name, m.Tags) })
		}
		if len(pos) < 2 {
			return errors.New("registry tag: want VERSION KEY=VALUE...")
		}
		v, err := version(pos[0])
		if err != nil {
			return err
		}
		for _, kv := range pos[1:] {
			k, val, _ := strings.Cut(kv, "=")
			if val == "" {
				err = reg.DeleteVersionTag(ctx, *name, v.Version, k)
			} else {
				err = reg.SetVersionTag(ctx, *name, v.Version, k, val)
			}
			if err != nil {
				return err
			}
		}
		if v, err = reg.Version(ctx, *name, v.Version); err != nil {
			return err
		}
		return out(v, func(w io.Writer) { fmt.Fprintf(w, "version %d tags: %v\n", v.Version, v.Tags) })
	case "delete":
		if err := need(1, "VERSION"); err != nil {
			return err
		}
		v, err := version(pos[0])
		if err != nil {
			return err
		}
		if err := reg.DeleteVersion(ctx, *name, v.Version); err != nil {
			return err
		}
		return out(map[string]int{"deleted": v.Version}, func(w io.Writer) { fmt.Fprintf(w, "deleted version %d\n", v.Version) })
	}
	if sub == "gc" {
		if err := need(0, "no arguments"); err != nil {
			return err
		}
		del, err := reg.Sweep(ctx, *grace)
		if del == nil {
			del = []string{}
		}
		if err != nil {
			return err
		}
		return out(map[string]any{"deleted": del}, func(w io.Writer) { fmt.Fprintf(w, "deleted %d unused files\n", len(del)) })
	}
	fmt.Fprintln(stderr, "usage: "+registryUsage)
	return fmt.Errorf("registry: unknown subcommand %q", sub)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// uploadFromFile reads FILE.onnx, its card FILE.json and variants FILE-int8.onnx / FILE-fp16.onnx (with their
// cards) when they exist beside it.
func uploadFromFile(path string) (registry.Upload, error) {
	if !strings.HasSuffix(path, ".onnx") {
		return registry.Upload{}, fmt.Errorf("register %s: want an .onnx file", path)
	}
	base := strings.TrimSuffix(path, ".onnx")
	u := registry.Upload{Files: map[string][]byte{}}
	b, err := os.ReadFile(path)
	if err != nil {
		return u, fmt.Errorf("register: %w", err)
	}
	u.Files[registry.FileONNX] = b
	for _, variant := range registry.Variants {
		on, cn, _, _ := registry.VariantFiles(variant)
		suffix := ""
		if variant != "fp32" {
			suffix = "-" + variant
			b, err := os.ReadFile(base + suffix + ".onnx")
			if err != nil {
				continue
			}
			u.Files[on] = b
		}
		if c, err := os.ReadFile(base + suffix + ".json"); err == nil {
			u.Files[cn] = c
		}
	}
	return u, nil
}

// codeVersion is this binary's VCS revision (with "+dirty" for a modified tree), or "unknown".
func codeVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// addReport adds the report files of a folder (not recursing) to an upload.
func addReport(u registry.Upload, dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("register --report: %w", err)
	}
	for _, e := range ents {
		name := registry.ReportPrefix + e.Name()
		if e.IsDir() || !registry.IsReportFile(name) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("register --report: %w", err)
		}
		u.Files[name] = b
	}
	return nil
}

func parseMetrics(s string) (map[string]float64, error) {
	if s == "" {
		return nil, nil
	}
	m := map[string]float64{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || k == "" {
			return nil, fmt.Errorf("metric %q: want KEY=NUMBER", kv)
		}
		m[k] = f
	}
	return m, nil
}
