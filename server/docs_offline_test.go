package server_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// /docs works with no internet: the page loads only files the binary serves; the OpenAPI document carries
// request/response examples; the websocket protocol is described by /asyncapi.yaml.
func TestDocs_OfflineViewerExamplesAndAsyncAPI(t *testing.T) {
	s := mustOpen(t)
	page := do(t, http.MethodGet, s.URL+"/docs", "", nil)
	if page.Status != http.StatusOK {
		t.Fatalf("/docs: %d %s", page.Status, page.Body)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(page.Body), -1)
	if len(refs) < 3 {
		t.Fatalf("the page references %d files", len(refs))
	}
	for _, m := range refs {
		if strings.Contains(m[1], "//") {
			t.Errorf("/docs loads %s from elsewhere", m[1])
			continue
		}
		r := do(t, http.MethodGet, s.URL+m[1], "", nil)
		if r.Status != http.StatusOK || len(r.Body) == 0 {
			t.Errorf("%s: %d, %d bytes", m[1], r.Status, len(r.Body))
		}
	}
	if r := do(t, http.MethodGet, s.URL+"/docs/assets/swagger-ui-bundle.js", "", nil); len(r.Body) < 100_000 {
		t.Errorf("the viewer bundle is %d bytes", len(r.Body))
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Example any `json:"example"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]struct {
				Content map[string]struct {
					Example any `json:"example"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(do(t, http.MethodGet, s.URL+"/openapi.json", "", nil).Body, &doc); err != nil {
		t.Fatal(err)
	}
	for path, status := range map[string]string{"/v1/predict": "200", "/v1/feedback": "201", "/v1/devices/enrol": "200"} {
		op := doc.Paths[path]["post"]
		resp, ok := op.Responses[status]
		if !ok {
			resp = op.Responses["200"]
		}
		if op.RequestBody.Content["application/json"].Example == nil || resp.Content["application/json"].Example == nil {
			t.Errorf("%s: no request or %s response example", path, status)
		}
	}
	a := do(t, http.MethodGet, s.URL+"/asyncapi.yaml", "", nil)
	for _, want := range []string{"asyncapi: 3.0.0", "/v1/ws", "feedback", "ack", "digitpad.bearer."} {
		if !strings.Contains(string(a.Body), want) {
			t.Errorf("/asyncapi.yaml lacks %q", want)
		}
	}
}
