package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"digitpad/registry"
)

// MLflow's Model Registry REST subset at /api/2.0/mlflow/ with MLflow's paths, field names and error format
// ({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": ...}), so tooling that speaks MLflow's REST API can read
// and write digitpad's registry: registered-models create/get/search/set-tag, model-versions
// create/get/search/get-download-uri/set-tag, registered-models/alias set/get/delete. Every route needs the
// token (MLflow clients send it from MLFLOW_TRACKING_TOKEN as a bearer token).
//
// Differences: model-versions/create copies the files of an existing version named by a models:/ URI in source
// (MLflow run artifacts do not exist here; new files are registered through /v1/registry); stages are always
// "None" (aliases replace them, as in MLflow 2.9+); search filters support name = '...' and name LIKE '...'.

type mlflowTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type mlflowAlias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

type mlflowModelVersion struct {
	Name                 string      `json:"name"`
	Version              string      `json:"version"`
	CreationTimestamp    int64       `json:"creation_timestamp"`
	LastUpdatedTimestamp int64       `json:"last_updated_timestamp"`
	UserID               string      `json:"user_id,omitempty"`
	CurrentStage         string      `json:"current_stage"`
	Description          string      `json:"description,omitempty"`
	Source               string      `json:"source,omitempty"`
	RunID                string      `json:"run_id,omitempty"`
	Status               string      `json:"status"`
	Tags                 []mlflowTag `json:"tags,omitempty"`
	Aliases              []string    `json:"aliases,omitempty"`
}

type mlflowRegisteredModel struct {
	Name                 string               `json:"name"`
	CreationTimestamp    int64                `json:"creation_timestamp"`
	LastUpdatedTimestamp int64                `json:"last_updated_timestamp"`
	Description          string               `json:"description,omitempty"`
	LatestVersions       []mlflowModelVersion `json:"latest_versions,omitempty"`
	Tags                 []mlflowTag          `json:"tags,omitempty"`
	Aliases              []mlflowAlias        `json:"aliases,omitempty"`
}

func mlflowTags(m map[string]string) []mlflowTag {
	var out []mlflowTag
	for k, v := range m {
		out = append(out, mlflowTag{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func toMLflowVersion(v registry.Version) mlflowModelVersion {
	ms := v.CreatedAt.UnixMilli()
	return mlflowModelVersion{Name: v.Model, Version: strconv.Itoa(v.Version), CreationTimestamp: ms, LastUpdatedTimestamp: ms,
		UserID: v.CreatedBy, CurrentStage: "None", Description: v.Description, Source: v.Source, Status: "READY",
		Tags: mlflowTags(v.Tags), Aliases: v.Aliases}
}

func (s *Server) toMLflowModel(ctx context.Context, m registry.Model) (mlflowRegisteredModel, error) {
	out := mlflowRegisteredModel{Name: m.Name, CreationTimestamp: m.CreatedAt.UnixMilli(),
		LastUpdatedTimestamp: m.UpdatedAt.UnixMilli(), Description: m.Description, Tags: mlflowTags(m.Tags)}
	for a, v := range m.Aliases {
		out.Aliases = append(out.Aliases, mlflowAlias{a, strconv.Itoa(v)})
	}
	sort.Slice(out.Aliases, func(i, j int) bool { return out.Aliases[i].Alias < out.Aliases[j].Alias })
	if m.LatestVersion > 0 {
		vs, err := s.cfg.Registry.Versions(ctx, m.Name)
		if err != nil {
			return out, err
		}
		if len(vs) > 0 {
			out.LatestVersions = []mlflowModelVersion{toMLflowVersion(vs[len(vs)-1])}
		}
	}
	return out, nil
}

// mlflowError is MLflow's error body.
type mlflowError struct {
	status int
	Code   string `json:"error_code"`
	Msg    string `json:"message"`
}

func (e *mlflowError) Error() string { return e.Code + ": " + e.Msg }

func mlflowErr(err error) *mlflowError {
	var me *mlflowError
	switch {
	case errors.As(err, &me):
		return me
	case errors.Is(err, registry.ErrNotFound):
		return &mlflowError{http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", err.Error()}
	case errors.Is(err, registry.ErrExists):
		return &mlflowError{http.StatusBadRequest, "RESOURCE_ALREADY_EXISTS", err.Error()}
	case errors.Is(err, registry.ErrInvalid):
		return &mlflowError{http.StatusBadRequest, "INVALID_PARAMETER_VALUE", err.Error()}
	case errors.Is(err, registry.ErrConflict), errors.Is(err, registry.ErrInUse):
		return &mlflowError{http.StatusConflict, "RESOURCE_CONFLICT", err.Error()}
	}
	return &mlflowError{http.StatusInternalServerError, "INTERNAL_ERROR", err.Error()}
}

func badParam(format string, a ...any) error {
	return &mlflowError{http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf(format, a...)}
}

// mlflowRequest holds every request field of the subset; GET takes them from the query string, other methods
// from a JSON body (DELETE falls back to the query string, as MLflow accepts both).
type mlflowRequest struct {
	Name        string      `json:"name"`
	Alias       string      `json:"alias"`
	Version     string      `json:"version"`
	Key         string      `json:"key"`
	Value       string      `json:"value"`
	Description string      `json:"description"`
	Source      string      `json:"source"`
	RunID       string      `json:"run_id"`
	Tags        []mlflowTag `json:"tags"`
	Filter      string      `json:"filter"`
	MaxResults  int         `json:"max_results"`
	PageToken   string      `json:"page_token"`
}

func parseMLflowRequest(r *http.Request) (*mlflowRequest, error) {
	req := &mlflowRequest{}
	if r.Method != http.MethodGet {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, badParam("read body: %v", err)
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, req); err != nil {
				return nil, &mlflowError{http.StatusBadRequest, "MALFORMED_REQUEST", "body is not the expected JSON: " + err.Error()}
			}
			return req, nil
		}
		if r.Method != http.MethodDelete {
			return req, nil
		}
	}
	q := r.URL.Query()
	req.Name, req.Alias, req.Version, req.Key = q.Get("name"), q.Get("alias"), q.Get("version"), q.Get("key")
	req.Filter, req.PageToken = q.Get("filter"), q.Get("page_token")
	if mr := q.Get("max_results"); mr != "" {
		n, err := strconv.Atoi(mr)
		if err != nil {
			return nil, badParam("max_results %q is not a number", mr)
		}
		req.MaxResults = n
	}
	return req, nil
}

func (req *mlflowRequest) version() (int, error) {
	n, err := strconv.Atoi(req.Version)
	if err != nil || n < 1 {
		return 0, badParam("version %q: want a positive number", req.Version)
	}
	return n, nil
}

func (req *mlflowRequest) need(fields ...string) error {
	for _, f := range fields {
		var v string
		switch f {
		case "name":
			v = req.Name
		case "alias":
			v = req.Alias
		case "version":
			v = req.Version
		case "key":
			v = req.Key
		case "source":
			v = req.Source
		}
		if v == "" {
			return badParam("missing value for required parameter '%s'", f)
		}
	}
	return nil
}

var (
	filterEq   = regexp.MustCompile(`^\s*name\s*=\s*'([^']*)'\s*$`)
	filterLike = regexp.MustCompile(`^\s*name\s+(?i:i?like)\s+'([^']*)'\s*$`)
)

// nameFilter compiles the name filters of the search routes.
func nameFilter(f string) (func(string) bool, error) {
	if strings.TrimSpace(f) == "" {
		return func(string) bool { return true }, nil
	}
	if m := filterEq.FindStringSubmatch(f); m != nil {
		return func(n string) bool { return n == m[1] }, nil
	}
	if m := filterLike.FindStringSubmatch(f); m != nil {
		parts := strings.Split(m[1], "%")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile("(?i)^" + strings.Join(parts, ".*") + "$")
		return re.MatchString, nil
	}
	return nil, badParam("filter %q: supported are name = '...' and name LIKE '...'", f)
}

// page applies max_results (default 100, at most 1000) and page_token (an offset) to n items.
func page(n int, req *mlflowRequest) (from, to int, next string, err error) {
	max := req.MaxResults
	if max <= 0 {
		max = 100
	}
	if max > 1000 {
		return 0, 0, "", badParam("max_results %d: at most 1000", max)
	}
	if req.PageToken != "" {
		if from, err = strconv.Atoi(req.PageToken); err != nil || from < 0 {
			return 0, 0, "", badParam("page_token %q is not valid", req.PageToken)
		}
	}
	from = min(from, n)
	to = min(from+max, n)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func (s *Server) mlflowRoutes(mux *http.ServeMux) {
	h := func(pattern string, fn func(ctx context.Context, r *http.Request, req *mlflowRequest) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if !s.validToken(r.Header.Get("Authorization")) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="digitpad"`)
				w.WriteHeader(http.StatusUnauthorized)
				json.NewEncoder(w).Encode(&mlflowError{Code: "UNAUTHENTICATED", Msg: "missing or invalid bearer token"})
				return
			}
			req, err := parseMLflowRequest(r)
			var out any
			if err == nil {
				out, err = fn(r.Context(), r, req)
			}
			if err != nil {
				me := mlflowErr(err)
				w.WriteHeader(me.status)
				json.NewEncoder(w).Encode(me)
				return
			}
			if out == nil {
				out = struct{}{}
			}
			json.NewEncoder(w).Encode(out)
		})
	}
	reg := s.cfg.Registry
	const p = "/api/2.0/mlflow/"
	h("POST "+p+"registered-models/create", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name"); err != nil {
			return nil, err
		}
		tags := map[string]string{}
		for _, t := range req.Tags {
			tags[t.Key] = t.Value
		}
		m, err := reg.CreateModel(ctx, req.Name, req.Description, tags)
		if err != nil {
			return nil, err
		}
		rm, err := s.toMLflowModel(ctx, m)
		return map[string]any{"registered_model": rm}, err
	})
	h("GET "+p+"registered-models/get", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name"); err != nil {
			return nil, err
		}
		m, err := reg.Model(ctx, req.Name)
		if err != nil {
			return nil, err
		}
		rm, err := s.toMLflowModel(ctx, m)
		return map[string]any{"registered_model": rm}, err
	})
	h("GET "+p+"registered-models/search", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		match, err := nameFilter(req.Filter)
		if err != nil {
			return nil, err
		}
		ms, err := reg.Models(ctx)
		if err != nil {
			return nil, err
		}
		var hits []registry.Model
		for _, m := range ms {
			if match(m.Name) {
				hits = append(hits, m)
			}
		}
		from, to, next, err := page(len(hits), req)
		if err != nil {
			return nil, err
		}
		out := []mlflowRegisteredModel{}
		for _, m := range hits[from:to] {
			rm, err := s.toMLflowModel(ctx, m)
			if err != nil {
				return nil, err
			}
			out = append(out, rm)
		}
		resp := map[string]any{"registered_models": out}
		if next != "" {
			resp["next_page_token"] = next
		}
		return resp, nil
	})
	h("POST "+p+"registered-models/set-tag", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name", "key"); err != nil {
			return nil, err
		}
		return nil, reg.SetModelTag(ctx, req.Name, req.Key, req.Value)
	})
	h("POST "+p+"model-versions/create", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name", "source"); err != nil {
			return nil, err
		}
		if !registry.IsURI(req.Source) {
			return nil, badParam("source %q: this registry creates versions from models:/NAME/VERSION or models:/NAME@ALIAS (new files go through POST /v1/registry/models/{name}/versions)", req.Source)
		}
		ref, err := registry.ParseURI(req.Source)
		if err != nil {
			return nil, err
		}
		src, err := reg.Resolve(ctx, ref)
		if err != nil {
			return nil, err
		}
		u := registry.Upload{Files: map[string][]byte{}, Description: req.Description, Source: req.Source, By: "mlflow",
			Lineage: src.Lineage, Metrics: src.Metrics, Tags: map[string]string{}}
		u.Lineage.Parent = src.Version
		for _, f := range src.Files {
			if strings.HasSuffix(f.Name, ".graph") {
				continue // made again from the ONNX files
			}
			if u.Files[f.Name], err = reg.ReadFile(ctx, src, f.Name); err != nil {
				return nil, err
			}
		}
		for _, t := range req.Tags {
			u.Tags[t.Key] = t.Value
		}
		if req.RunID != "" {
			u.Tags["mlflow.run_id"] = req.RunID
		}
		v, err := reg.Register(ctx, req.Name, u)
		if err != nil {
			return nil, err
		}
		return map[string]any{"model_version": toMLflowVersion(v)}, nil
	})
	h("GET "+p+"model-versions/get", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name", "version"); err != nil {
			return nil, err
		}
		n, err := req.version()
		if err != nil {
			return nil, err
		}
		v, err := reg.Version(ctx, req.Name, n)
		if err != nil {
			return nil, err
		}
		return map[string]any{"model_version": toMLflowVersion(v)}, nil
	})
	h("GET "+p+"model-versions/search", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		match, err := nameFilter(req.Filter)
		if err != nil {
			return nil, err
		}
		ms, err := reg.Models(ctx)
		if err != nil {
			return nil, err
		}
		var hits []registry.Version
		for _, m := range ms {
			if !match(m.Name) {
				continue
			}
			vs, err := reg.Versions(ctx, m.Name)
			if err != nil {
				return nil, err
			}
			for i := len(vs) - 1; i >= 0; i-- { // newest first, as MLflow orders by default
				hits = append(hits, vs[i])
			}
		}
		from, to, next, err := page(len(hits), req)
		if err != nil {
			return nil, err
		}
		out := []mlflowModelVersion{}
		for _, v := range hits[from:to] {
			out = append(out, toMLflowVersion(v))
		}
		resp := map[string]any{"model_versions": out}
		if next != "" {
			resp["next_page_token"] = next
		}
		return resp, nil
	})
	h("GET "+p+"model-versions/get-download-uri", func(ctx context.Context, r *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name", "version"); err != nil {
			return nil, err
		}
		n, err := req.version()
		if err != nil {
			return nil, err
		}
		if _, err := reg.Version(ctx, req.Name, n); err != nil {
			return nil, err
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return map[string]any{"artifact_uri": fmt.Sprintf("%s://%s/v1/registry/models/%s/versions/%d/files", scheme, r.Host, req.Name, n)}, nil
	})
	h("POST "+p+"model-versions/set-tag", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name", "version", "key"); err != nil {
			return nil, err
		}
		n, err := req.version()
		if err != nil {
			return nil, err
		}
		return nil, reg.SetVersionTag(ctx, req.Name, n, req.Key, req.Value)
	})
	h("POST "+p+"registered-models/alias", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name", "alias", "version"); err != nil {
			return nil, err
		}
		n, err := req.version()
		if err != nil {
			return nil, err
		}
		_, err = reg.SetAlias(ctx, req.Name, req.Alias, n, registry.ExpectAny, "mlflow", "set through the MLflow API")
		return nil, err
	})
	h("GET "+p+"registered-models/alias", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name", "alias"); err != nil {
			return nil, err
		}
		v, err := reg.Resolve(ctx, registry.Ref{Model: req.Name, Alias: req.Alias})
		if err != nil {
			return nil, err
		}
		return map[string]any{"model_version": toMLflowVersion(v)}, nil
	})
	h("DELETE "+p+"registered-models/alias", func(ctx context.Context, _ *http.Request, req *mlflowRequest) (any, error) {
		if err := req.need("name", "alias"); err != nil {
			return nil, err
		}
		_, err := reg.DeleteAlias(ctx, req.Name, req.Alias, registry.ExpectAny, "mlflow", "deleted through the MLflow API")
		return nil, err
	})
}
