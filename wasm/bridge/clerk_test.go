package bridge

import (
	"encoding/json"
	"testing"
)

func TestClerk_FixStaysAndFormatGates(t *testing.T) {
	in := `{"format":"5","confirm":[1],
	  "digits":[{"digit":3,"box":[0,0,40,80]},{"digit":0,"box":[50,0,90,80]},{"digit":5,"box":[100,0,140,80]},{"digit":8,"box":[150,0,190,80]}],
	  "fixes":[{"box":[50,0,90,80],"digit":6}]}`
	var ci ClerkInput
	if err := json.Unmarshal([]byte(in), &ci); err != nil {
		t.Fatal(err)
	}
	out, err := Clerk(ci)
	if err != nil {
		t.Fatal(err)
	}
	if out.Code != "3658" || !out.Fixed[1] || len(out.Fixes) != 1 {
		t.Errorf("got %+v, want code 3658 with digit 2 fixed", out)
	}
	if out.Verdict.OK || !out.Verdict.Format || out.Verdict.Reason != "4 of 5 digits: add 1" {
		t.Errorf("verdict %+v: four digits with format 5 must not be confirmable", out.Verdict)
	}
	if o := out.Object(); o["code"] != "3658" || o["verdict"].(map[string]any)["ok"] != false {
		t.Errorf("object %v", o)
	}
	if _, err := Clerk(ClerkInput{Format: "(["}); err == nil {
		t.Error("a bad format is an error")
	}
}
