package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"digitpad/assets"
)

// mlflowVersion and mlflowModel are the response shapes of MLflow's REST reference (ModelVersion, RegisteredModel).
type mlflowVersion struct {
	Name                 string `json:"name"`
	Version              string `json:"version"`
	CreationTimestamp    int64  `json:"creation_timestamp"`
	LastUpdatedTimestamp int64  `json:"last_updated_timestamp"`
	CurrentStage         string `json:"current_stage"`
	Description          string `json:"description"`
	Source               string `json:"source"`
	RunID                string `json:"run_id"`
	Status               string `json:"status"`
	Tags                 []struct{ Key, Value string }
	Aliases              []string `json:"aliases"`
}

type mlflowModel struct {
	Name              string          `json:"name"`
	CreationTimestamp int64           `json:"creation_timestamp"`
	Description       string          `json:"description"`
	LatestVersions    []mlflowVersion `json:"latest_versions"`
	Tags              []struct{ Key, Value string }
	Aliases           []struct{ Alias, Version string }
}

func TestMLflow_RegistryRoundTrip(t *testing.T) {
	ts := followingServer(t, filepath.Join(t.TempDir(), "registry"))
	api := ts.URL + "/api/2.0/mlflow/"
	call := func(method, path string, body any, wantStatus int, out any) {
		t.Helper()
		var r *response
		if method == http.MethodGet {
			r = do(t, method, api+path, "", nil, bearer()...)
		} else {
			b, _ := json.Marshal(body)
			r = do(t, method, api+path, "application/json", b, bearer()...)
		}
		if r.Status != wantStatus {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, wantStatus)
		}
		if out != nil {
			if err := json.Unmarshal(r.Body, out); err != nil {
				t.Fatalf("%s %s: %v in %s", method, path, err, r.Body)
			}
		}
	}
	type errBody struct {
		ErrorCode string `json:"error_code"`
		Message   string `json:"message"`
	}

	var created struct {
		RegisteredModel mlflowModel `json:"registered_model"`
	}
	call(http.MethodPost, "registered-models/create", map[string]any{"name": "digitpad-exp",
		"tags": []map[string]string{{"key": "team", "value": "ml"}}, "description": "experiments"}, 200, &created)
	if m := created.RegisteredModel; m.Name != "digitpad-exp" || m.Description != "experiments" || len(m.Tags) != 1 ||
		m.Tags[0].Key != "team" || m.CreationTimestamp == 0 {
		t.Errorf("created %+v", m)
	}
	var e errBody
	call(http.MethodPost, "registered-models/create", map[string]any{"name": "digitpad-exp"}, 400, &e)
	if e.ErrorCode != "RESOURCE_ALREADY_EXISTS" {
		t.Errorf("duplicate create: %+v", e)
	}

	var mv struct {
		ModelVersion mlflowVersion `json:"model_version"`
	}
	call(http.MethodPost, "model-versions/create", map[string]any{"name": "digitpad-exp", "source": "models:/digitpad/1",
		"run_id": "run-7", "description": "copy of production", "tags": []map[string]string{{"key": "k", "value": "v"}}}, 200, &mv)
	if v := mv.ModelVersion; v.Name != "digitpad-exp" || v.Version != "1" || v.Status != "READY" || v.Source != "models:/digitpad/1" ||
		v.CurrentStage != "None" || v.Description != "copy of production" {
		t.Errorf("created version %+v", v)
	}
	call(http.MethodPost, "model-versions/create", map[string]any{"name": "digitpad-exp", "source": "s3://elsewhere/run"}, 400, &e)
	if e.ErrorCode != "INVALID_PARAMETER_VALUE" {
		t.Errorf("unsupported source: %+v", e)
	}
	call(http.MethodGet, "model-versions/get?name=digitpad-exp&version=1", nil, 200, &mv)
	if mv.ModelVersion.Version != "1" || len(mv.ModelVersion.Tags) != 2 {
		t.Errorf("get version %+v, want tags k and mlflow.run_id", mv.ModelVersion)
	}
	call(http.MethodGet, "model-versions/get?name=digitpad-exp&version=9", nil, 404, &e)
	if e.ErrorCode != "RESOURCE_DOES_NOT_EXIST" {
		t.Errorf("missing version: %+v", e)
	}

	call(http.MethodPost, "registered-models/alias", map[string]any{"name": "digitpad-exp", "alias": "champion", "version": "1"}, 200, nil)
	call(http.MethodGet, "registered-models/alias?name=digitpad-exp&alias=champion", nil, 200, &mv)
	if mv.ModelVersion.Version != "1" || len(mv.ModelVersion.Aliases) != 1 || mv.ModelVersion.Aliases[0] != "champion" {
		t.Errorf("get by alias %+v", mv.ModelVersion)
	}
	call(http.MethodPost, "registered-models/set-tag", map[string]any{"name": "digitpad-exp", "key": "owner", "value": "postal"}, 200, nil)
	call(http.MethodPost, "model-versions/set-tag", map[string]any{"name": "digitpad-exp", "version": "1", "key": "validated", "value": "yes"}, 200, nil)
	var got struct {
		RegisteredModel mlflowModel `json:"registered_model"`
	}
	call(http.MethodGet, "registered-models/get?name=digitpad-exp", nil, 200, &got)
	if m := got.RegisteredModel; len(m.Aliases) != 1 || m.Aliases[0].Alias != "champion" || m.Aliases[0].Version != "1" ||
		len(m.Tags) != 2 || len(m.LatestVersions) != 1 || m.LatestVersions[0].Version != "1" {
		t.Errorf("registered model %+v", m)
	}

	var search struct {
		RegisteredModels []mlflowModel `json:"registered_models"`
		NextPageToken    string        `json:"next_page_token"`
	}
	call(http.MethodGet, "registered-models/search?filter="+url.QueryEscape("name = 'digitpad-exp'"), nil, 200, &search)
	if len(search.RegisteredModels) != 1 || search.RegisteredModels[0].Name != "digitpad-exp" {
		t.Errorf("search by name: %+v", search)
	}
	call(http.MethodGet, "registered-models/search?max_results=1&filter="+url.QueryEscape("name LIKE 'digitpad%'"), nil, 200, &search)
	if len(search.RegisteredModels) != 1 || search.NextPageToken == "" {
		t.Errorf("first page: %+v", search)
	}
	token := search.NextPageToken
	search.NextPageToken = ""
	call(http.MethodGet, "registered-models/search?max_results=1&page_token="+token+"&filter="+url.QueryEscape("name LIKE 'digitpad%'"), nil, 200, &search)
	if len(search.RegisteredModels) != 1 || search.NextPageToken != "" {
		t.Errorf("second page: %+v", search)
	}
	var vsearch struct {
		ModelVersions []mlflowVersion `json:"model_versions"`
	}
	call(http.MethodGet, "model-versions/search?filter="+url.QueryEscape("name='digitpad-exp'"), nil, 200, &vsearch)
	if len(vsearch.ModelVersions) != 1 || vsearch.ModelVersions[0].Name != "digitpad-exp" {
		t.Errorf("version search: %+v", vsearch)
	}

	var dl struct {
		ArtifactURI string `json:"artifact_uri"`
	}
	call(http.MethodGet, "model-versions/get-download-uri?name=digitpad-exp&version=1", nil, 200, &dl)
	f := do(t, http.MethodGet, dl.ArtifactURI+"/model.onnx", "", nil, bearer()...)
	if f.Status != 200 || sha(f.Body) != sha(assets.Model()) {
		t.Errorf("download %s/model.onnx: %d, sha %s", dl.ArtifactURI, f.Status, sha(f.Body))
	}

	call(http.MethodDelete, "registered-models/alias", map[string]any{"name": "digitpad-exp", "alias": "champion"}, 200, nil)
	call(http.MethodGet, "registered-models/alias?name=digitpad-exp&alias=champion", nil, 404, &e)
	if e.ErrorCode != "RESOURCE_DOES_NOT_EXIST" {
		t.Errorf("deleted alias: %+v", e)
	}
	if r := do(t, http.MethodGet, api+"registered-models/get?name=digitpad", "", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("MLflow route without the token: %d", r.Status)
	}
}
