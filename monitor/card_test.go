package monitor_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"digitpad/assets"
	"digitpad/monitor"
)

func TestSetCardField_KeepsOtherFieldsAndOrder(t *testing.T) {
	card := []byte("{\n  \"name\": \"m\",\n  \"input\": \"a & b <c>\",\n  \"n\": 1.50,\n  \"list\": [\n    1,\n    2\n  ]\n}\n")
	out, err := monitor.SetCardField(card, "extra", map[string]int{"k": 1})
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"name\": \"m\",\n  \"input\": \"a & b <c>\",\n  \"n\": 1.50,\n  \"list\": [\n    1,\n    2\n  ],\n  \"extra\": {\n    \"k\": 1\n  }\n}\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	again, err := monitor.SetCardField(out, "extra", map[string]int{"k": 2})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(again, []byte(`"k": 2`)) || bytes.Count(again, []byte(`"extra"`)) != 1 {
		t.Errorf("replacing a field: %s", again)
	}
	if _, err := monitor.SetCardField([]byte("[1]"), "x", 1); err == nil {
		t.Error("a JSON array was accepted as a card")
	}
}

// The shipped cards carry a profile whose calibrated false-alarm rates meet the target at every window size.
func TestShippedCards_HaveProfiles(t *testing.T) {
	for _, v := range assets.Variants {
		_, card := assets.Variant(v)
		p, err := monitor.ParseProfile(card)
		if err != nil || p == nil {
			t.Fatalf("%s: profile %v, err %v", v, p, err)
		}
		if p.Digits < 2000 || len(p.Embedding.Sample) == 0 || p.Embedding.Dim != 128 || len(p.Windows) != len(monitor.WindowSizes) {
			t.Errorf("%s: thin profile: %d digits, %d embedding samples, dim %d, %d windows", v, p.Digits,
				len(p.Embedding.Sample), p.Embedding.Dim, len(p.Windows))
		}
		for _, w := range p.Windows {
			if w.FalseAlarm > 0.05 || len(w.Thresholds) != 17 {
				t.Errorf("%s: window %d: false alarm %.3f, %d thresholds", v, w.Size, w.FalseAlarm, len(w.Thresholds))
			}
		}
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(card, &fields)
		for _, k := range []string{"name", "sha256", "metrics"} {
			if _, ok := fields[k]; !ok && v == "fp32" {
				t.Errorf("%s: card lost field %q", v, k)
			}
		}
	}
}
