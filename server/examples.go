package server

import (
	"github.com/danielgtaylor/huma/v2"
)

// addExamples puts request and response examples into the OpenAPI document, where API users look first.
func addExamples(o *huma.OpenAPI) {
	set := func(path, method string, req any, status string, resp any) {
		item := o.Paths[path]
		if item == nil {
			return
		}
		var op *huma.Operation
		switch method {
		case "POST":
			op = item.Post
		case "GET":
			op = item.Get
		}
		if op == nil {
			return
		}
		if req != nil && op.RequestBody != nil {
			if mt := op.RequestBody.Content["application/json"]; mt != nil {
				mt.Example = req
			}
		}
		if resp != nil {
			r := op.Responses[status]
			if r == nil { // a handler that sets its status at run time documents it as 200
				r = op.Responses["200"]
			}
			if r != nil {
				if mt := r.Content["application/json"]; mt != nil {
					mt.Example = resp
				}
			}
		}
	}
	digit := map[string]any{"digit": 3, "confidence": 0.97, "box": []int{40, 30, 150, 170}}
	set("/v1/predict", "POST",
		map[string]any{"strokes": [][][2]float64{{{60, 40}, {120, 35}, {90, 100}, {130, 160}, {60, 165}}}, "width": 640, "height": 200, "format": "5"},
		"200", map[string]any{"id": "p_01JEXAMPLE", "code": "3", "confidence": 0.97, "confirm": []int{},
			"format_error": "code \"3\" does not match 5 digits", "digits": []any{digit},
			"model": map[string]any{"name": "digitpad-cnn", "sha256": "3f1c…"}})
	set("/v1/feedback", "POST",
		map[string]any{"idempotency_key": "7f3a9c2e-0d1b-4c59-9f0e-2b1d3c4e5f60", "client_id": "depot-7", "code": "30582",
			"labels": []int{3, 0, 5, 8, 2}, "predicted": "30562", "prediction_id": "p_01JEXAMPLE",
			"model_sha256": "3f1c…", "created_at": "2026-12-02T15:04:05Z"},
		"201", map[string]any{"idempotency_key": "7f3a9c2e-0d1b-4c59-9f0e-2b1d3c4e5f60", "feedback_id": "f_01JEXAMPLE"})
	set("/v1/admin/enrolments", "POST", map[string]any{"name": "depot 7 counter pad"},
		"200", map[string]any{"code": "K7QM-4XPA", "expires_at": "2026-12-02T15:34:05Z"})
	set("/v1/devices/enrol", "POST", map[string]any{"code": "K7QM-4XPA"},
		"200", map[string]any{"device_id": "dev_01JEXAMPLE", "name": "depot 7 counter pad", "credential": "dpd_…"})
}
