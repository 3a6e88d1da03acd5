package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"digitpad/registry"
	"digitpad/shared/protocol"
)

// registryErr maps registry errors to API errors: not found 404, invalid 400, conflict 409, in use 409.
func registryErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, registry.ErrNotFound):
		return apiErr(protocol.ENotFound, err.Error())
	case errors.Is(err, registry.ErrInvalid):
		return apiErr(protocol.EInvalid, err.Error())
	case errors.Is(err, registry.ErrExists):
		return &APIError{Code: "conflict", Message: err.Error(), Status: http.StatusConflict}
	case errors.Is(err, registry.ErrConflict), errors.Is(err, registry.ErrInUse):
		return &APIError{Code: "conflict", Message: err.Error(), Status: http.StatusConflict}
	}
	return apiErr(protocol.EUnavailable, "registry unavailable: "+err.Error())
}

type regModelPath struct {
	Name string `path:"name" maxLength:"128" doc:"Registered model name (digitpad)"`
}

type regVersionPath struct {
	Name    string `path:"name" maxLength:"128"`
	Version int    `path:"version" minimum:"1"`
}

type regAliasPath struct {
	Name  string `path:"name" maxLength:"128"`
	Alias string `path:"alias" maxLength:"64"`
}

type regModelOut struct{ Body registry.Model }
type regVersionOut struct{ Body registry.Version }
type regVersionsOut struct{ Body []registry.Version }
type regMoveOut struct{ Body registry.AliasMove }
type regHistoryOut struct{ Body []registry.AliasMove }

type regRegisterIn struct {
	Name string `path:"name" maxLength:"128"`
	Body struct {
		Files       map[string][]byte  `json:"files" doc:"File name (model.onnx, model-int8.onnx, model-fp16.onnx, model.json, model-int8.json, model-fp16.json) -> base64 contents; model.onnx is required"`
		SHA256      map[string]string  `json:"sha256,omitempty" doc:"File name -> the hex sha256 the file must have (refused on mismatch)"`
		Description string             `json:"description,omitempty"`
		Source      string             `json:"source,omitempty"`
		By          string             `json:"by,omitempty" doc:"Who registers (recorded)"`
		Lineage     registry.Lineage   `json:"lineage,omitzero"`
		Metrics     map[string]float64 `json:"metrics,omitempty"`
		Tags        map[string]string  `json:"tags,omitempty"`
		Alias       string             `json:"alias,omitempty" doc:"Point this alias at the new version (e.g. candidate)"`
	}
}

type regAliasIn struct {
	Name  string `path:"name" maxLength:"128"`
	Alias string `path:"alias" maxLength:"64"`
	Body  struct {
		Version int    `json:"version" minimum:"1" doc:"The version the alias will point at"`
		Expect  *int   `json:"expect,omitempty" doc:"Compare-and-set: the version the alias must point at now (0: it must not exist); omitted: move unconditionally"`
		By      string `json:"by,omitempty" doc:"Who moves the alias (recorded in its history)"`
		Reason  string `json:"reason,omitempty" doc:"Why (recorded in its history)"`
	}
}

type regAliasDeleteIn struct {
	Name   string `path:"name" maxLength:"128"`
	Alias  string `path:"alias" maxLength:"64"`
	Expect int    `query:"expect" default:"-1" doc:"Compare-and-set: the version the alias must point at now (-1: any)"`
	By     string `query:"by"`
	Reason string `query:"reason"`
}

type regAliasGetIn struct {
	Name  string    `path:"name" maxLength:"128"`
	Alias string    `path:"alias" maxLength:"64"`
	At    time.Time `query:"at" doc:"RFC 3339 time: answer with the version the alias pointed at then (0: none) from its history"`
}

type regAliasGetOut struct {
	Body struct {
		Alias   string    `json:"alias"`
		Version int       `json:"version"`
		At      time.Time `json:"at,omitzero"`
	}
}

type regRollbackIn struct {
	Name  string `path:"name" maxLength:"128"`
	Alias string `path:"alias" maxLength:"64"`
	Body  struct {
		By     string `json:"by,omitempty"`
		Reason string `json:"reason,omitempty"`
	}
}

type regTagIn struct {
	Name    string `path:"name" maxLength:"128"`
	Version int    `path:"version" minimum:"1"`
	Key     string `path:"key" maxLength:"250"`
	Body    struct {
		Value string `json:"value" maxLength:"5000"`
	}
}

type regFileIn struct {
	Name    string `path:"name" maxLength:"128"`
	Version int    `path:"version" minimum:"1"`
	File    string `path:"file" maxLength:"64"`
}

type regFileOut struct {
	ContentType string `header:"Content-Type"`
	SHA256      string `header:"X-Content-SHA256"`
	Body        []byte
}

type regStatusOut struct {
	Body struct {
		Registry  string        `json:"registry" doc:"Where the registry lives"`
		Following *FollowStatus `json:"following,omitempty" doc:"The alias or version this server serves, when it follows the registry"`
	}
}

func who(by string) string {
	if by != "" {
		return by
	}
	return "api"
}

// registryRoutes registers /v1/registry/... (all behind the token) and MLflow's REST subset.
func (s *Server) registryRoutes(api huma.API, mux *http.ServeMux) {
	reg := s.cfg.Registry
	op := func(id, method, path, summary string, errs ...int) huma.Operation {
		o := huma.Operation{OperationID: id, Method: method, Path: path, Tags: []string{"registry"}, Summary: summary,
			Errors: append([]int{401}, errs...), Metadata: map[string]any{"auth": authAdmin}}
		s.secure(&o, authAdmin)
		return o
	}
	huma.Register(api, op("registry-status", http.MethodGet, "/v1/registry", "The registry and what this server follows"),
		func(ctx context.Context, _ *struct{}) (*regStatusOut, error) {
			out := &regStatusOut{}
			out.Body.Registry = reg.String()
			if st, ok := s.FollowStatus(); ok {
				out.Body.Following = &st
			}
			return out, nil
		})
	huma.Register(api, op("registry-get-model", http.MethodGet, "/v1/registry/models/{name}", "A registered model with its aliases", 404),
		func(ctx context.Context, in *regModelPath) (*regModelOut, error) {
			m, err := reg.Model(ctx, in.Name)
			return &regModelOut{Body: m}, registryErr(err)
		})
	huma.Register(api, op("registry-list-versions", http.MethodGet, "/v1/registry/models/{name}/versions", "A model's versions, oldest first", 404),
		func(ctx context.Context, in *regModelPath) (*regVersionsOut, error) {
			vs, err := reg.Versions(ctx, in.Name)
			if vs == nil {
				vs = []registry.Version{}
			}
			return &regVersionsOut{Body: vs}, registryErr(err)
		})
	register := op("registry-register", http.MethodPost, "/v1/registry/models/{name}/versions",
		"Register a version (validated: loads, passes the smoke evaluation, sha256s match)", 400, 404, 409, 413)
	register.Description = "Files are base64 in JSON. A refused upload (corrupt or unsupported model, sha256 mismatch) " +
		"is answered 400 with the reason and leaves nothing behind."
	register.MaxBodyBytes = 3 * registry.MaxFileBytes
	huma.Register(api, register, func(ctx context.Context, in *regRegisterIn) (*regVersionOut, error) {
		b := in.Body
		v, err := reg.Register(ctx, in.Name, registry.Upload{Files: b.Files, SHA256: b.SHA256, Description: b.Description,
			Source: b.Source, By: who(b.By), Lineage: b.Lineage, Metrics: b.Metrics, Tags: b.Tags})
		if err != nil {
			return nil, registryErr(err)
		}
		if b.Alias != "" {
			if _, err := reg.SetAlias(ctx, in.Name, b.Alias, v.Version, registry.ExpectAny, who(b.By), "registered"); err != nil {
				return nil, registryErr(err)
			}
			v, err = reg.Version(ctx, in.Name, v.Version)
		}
		return &regVersionOut{Body: v}, registryErr(err)
	})
	huma.Register(api, op("registry-get-version", http.MethodGet, "/v1/registry/models/{name}/versions/{version}", "One version", 404),
		func(ctx context.Context, in *regVersionPath) (*regVersionOut, error) {
			v, err := reg.Version(ctx, in.Name, in.Version)
			return &regVersionOut{Body: v}, registryErr(err)
		})
	huma.Register(api, op("registry-delete-version", http.MethodDelete, "/v1/registry/models/{name}/versions/{version}",
		"Delete a version no alias points at (409 otherwise)", 404, 409),
		func(ctx context.Context, in *regVersionPath) (*struct{}, error) {
			return nil, registryErr(reg.DeleteVersion(ctx, in.Name, in.Version))
		})
	huma.Register(api, op("registry-get-file", http.MethodGet, "/v1/registry/models/{name}/versions/{version}/files/{file}",
		"Download a version's file (verified against its sha256 before it is sent)", 404),
		func(ctx context.Context, in *regFileIn) (*regFileOut, error) {
			v, err := reg.Version(ctx, in.Name, in.Version)
			if err != nil {
				return nil, registryErr(err)
			}
			b, err := reg.ReadFile(ctx, v, in.File)
			if err != nil {
				return nil, registryErr(err)
			}
			f, _ := v.File(in.File)
			ct := "application/octet-stream"
			if strings.HasSuffix(in.File, ".json") {
				ct = "application/json"
			}
			return &regFileOut{ContentType: ct, SHA256: f.SHA256, Body: b}, nil
		})
	huma.Register(api, op("registry-set-version-tag", http.MethodPut, "/v1/registry/models/{name}/versions/{version}/tags/{key}", "Set a version tag", 404),
		func(ctx context.Context, in *regTagIn) (*regVersionOut, error) {
			if err := reg.SetVersionTag(ctx, in.Name, in.Version, in.Key, in.Body.Value); err != nil {
				return nil, registryErr(err)
			}
			v, err := reg.Version(ctx, in.Name, in.Version)
			return &regVersionOut{Body: v}, registryErr(err)
		})
	setAlias := op("registry-set-alias", http.MethodPut, "/v1/registry/models/{name}/aliases/{alias}",
		"Move an alias (promote), compare-and-set with expect", 400, 404, 409)
	setAlias.Description = "With `expect`, the move happens only if the alias still points at that version; a concurrent " +
		"move makes this one fail with 409 instead of silently winning. Servers following the alias swap within seconds."
	huma.Register(api, setAlias, func(ctx context.Context, in *regAliasIn) (*regMoveOut, error) {
		expect := registry.ExpectAny
		if in.Body.Expect != nil {
			expect = *in.Body.Expect
		}
		mv, err := reg.SetAlias(ctx, in.Name, in.Alias, in.Body.Version, expect, who(in.Body.By), in.Body.Reason)
		return &regMoveOut{Body: mv}, registryErr(err)
	})
	huma.Register(api, op("registry-delete-alias", http.MethodDelete, "/v1/registry/models/{name}/aliases/{alias}", "Delete an alias", 404, 409),
		func(ctx context.Context, in *regAliasDeleteIn) (*regMoveOut, error) {
			mv, err := reg.DeleteAlias(ctx, in.Name, in.Alias, in.Expect, who(in.By), in.Reason)
			return &regMoveOut{Body: mv}, registryErr(err)
		})
	huma.Register(api, op("registry-rollback", http.MethodPost, "/v1/registry/models/{name}/aliases/{alias}/rollback",
		"Move an alias back to where it pointed before its last move", 400, 404, 409),
		func(ctx context.Context, in *regRollbackIn) (*regMoveOut, error) {
			mv, err := reg.Rollback(ctx, in.Name, in.Alias, who(in.Body.By), in.Body.Reason)
			return &regMoveOut{Body: mv}, registryErr(err)
		})
	huma.Register(api, op("registry-get-alias", http.MethodGet, "/v1/registry/models/{name}/aliases/{alias}",
		"The version an alias points at, now or at a past time", 400, 404),
		func(ctx context.Context, in *regAliasGetIn) (*regAliasGetOut, error) {
			out := &regAliasGetOut{}
			out.Body.Alias = in.Alias
			if in.At.IsZero() {
				v, err := reg.Resolve(ctx, registry.Ref{Model: in.Name, Alias: in.Alias})
				out.Body.Version = v.Version
				return out, registryErr(err)
			}
			v, err := reg.AliasAt(ctx, in.Name, in.Alias, in.At)
			out.Body.Version, out.Body.At = v, in.At
			return out, registryErr(err)
		})
	huma.Register(api, op("registry-alias-history", http.MethodGet, "/v1/registry/models/{name}/aliases/{alias}/history",
		"Every move of an alias: who, when, from, to, why", 404),
		func(ctx context.Context, in *regAliasPath) (*regHistoryOut, error) {
			h, err := reg.History(ctx, in.Name, in.Alias)
			if h == nil {
				h = []registry.AliasMove{}
			}
			return &regHistoryOut{Body: h}, registryErr(err)
		})
	s.mlflowRoutes(mux)
}
