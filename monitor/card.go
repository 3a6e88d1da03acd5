package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// CardField is the model card field that holds the reference profile.
const CardField = "reference_profile"

// ParseProfile reads the reference profile from a model card; nil, nil when the card has none.
func ParseProfile(card []byte) (*Profile, error) {
	if len(card) == 0 {
		return nil, nil
	}
	var c struct {
		P *Profile `json:"reference_profile"`
	}
	if err := json.Unmarshal(card, &c); err != nil {
		return nil, fmt.Errorf("monitor: model card: %w", err)
	}
	if c.P != nil && c.P.Version != ProfileVersion {
		return nil, fmt.Errorf("monitor: reference profile version %d, want %d", c.P.Version, ProfileVersion)
	}
	if c.P != nil {
		c.P.prepare()
	}
	return c.P, nil
}

// SetCardField returns card (a JSON object) with field set to value, keeping every other field's text and
// order; a new field goes last. The result is indented with two spaces like the cards `digitpad train` writes.
func SetCardField(card []byte, field string, value any) ([]byte, error) {
	if len(bytes.TrimSpace(card)) == 0 {
		card = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(card))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("monitor: model card is not a JSON object")
	}
	type kv struct {
		k string
		v json.RawMessage
	}
	var fields []kv
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("monitor: model card: %w", err)
		}
		k, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("monitor: model card field %q: %w", k, err)
		}
		fields = append(fields, kv{k, raw})
	}
	nv, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	replaced := false
	for i := range fields {
		if fields[i].k == field {
			fields[i].v, replaced = nv, true
		}
	}
	if !replaced {
		fields = append(fields, kv{field, nv})
	}
	var out bytes.Buffer
	out.WriteString("{\n")
	for i, f := range fields {
		key, _ := json.Marshal(f.k)
		out.WriteString("  ")
		out.Write(key)
		out.WriteString(": ")
		if err := json.Indent(&out, f.v, "  ", "  "); err != nil {
			return nil, err
		}
		if i < len(fields)-1 {
			out.WriteByte(',')
		}
		out.WriteByte('\n')
	}
	out.WriteString("}\n")
	return out.Bytes(), nil
}
