package bridge

import (
	"encoding/json"
	"reflect"
	"testing"
)

func clerkInput(t *testing.T, in string) ClerkInput {
	t.Helper()
	var ci ClerkInput
	if err := json.Unmarshal([]byte(in), &ci); err != nil {
		t.Fatal(err)
	}
	return ci
}

func TestClerk_FixStaysAndFormatGates(t *testing.T) {
	ci := clerkInput(t, `{"format":"5","confirm":[1],
	  "digits":[{"digit":3,"box":[0,0,40,80]},{"digit":0,"box":[50,0,90,80]},{"digit":5,"box":[100,0,140,80]},{"digit":8,"box":[150,0,190,80]}],
	  "fixes":[{"box":[50,0,90,80],"digit":6}]}`)
	out, err := Clerk(ci, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Code != "3658" || !out.Slots[1].Fixed || len(out.Fixes) != 1 {
		t.Errorf("got %+v, want code 3658 with digit 2 fixed", out)
	}
	if out.Verdict.OK || !out.Verdict.Format || out.Verdict.Reason != "4 of 5 digits: add 1" {
		t.Errorf("verdict %+v: four digits with format 5 must not be confirmable", out.Verdict)
	}
	// The clerk inserts the missing digit after the 5: the code fits and may be confirmed.
	ci.Edit = &Edit{Op: "insert", At: 3, Digit: 2}
	if out, err = Clerk(ci, nil); err != nil {
		t.Fatal(err)
	}
	if out.Code != "36528" || !out.Verdict.OK || !out.Edited || len(out.Fixes) != 2 {
		t.Errorf("after the insertion: %+v", out)
	}
	ci.Fixes, ci.Edit = out.Fixes, &Edit{Op: "delete", At: 3}
	if out, err = Clerk(ci, nil); err != nil || out.Code != "3658" || out.Edited {
		t.Errorf("after deleting the insertion: %+v %v", out, err)
	}
	ci.IsTyped, ci.Typed = true, "30582"
	if out, err = Clerk(ci, nil); err != nil || out.Code != "30582" || !out.Verdict.OK || !out.Typed {
		t.Errorf("typed: %+v %v", out, err)
	}
	if _, err := Clerk(ClerkInput{Format: "(["}, nil); err == nil {
		t.Error("a bad format is an error")
	}
	if _, err := Clerk(ClerkInput{Digits: ci.Digits, Edit: &Edit{Op: "swap"}}, nil); err == nil {
		t.Error("an unknown edit is an error")
	}
}

// The hand-written JavaScript object has the shape of recognize.Review's JSON.
func TestClerkObject_IsReviewJSON(t *testing.T) {
	ci := clerkInput(t, `{"format":"","confirm":[0],
	  "digits":[{"digit":7,"box":[0,0,40,80],"probs":[0,0,0,0,0,0,0,0.9,0,0.1]},{"digit":5,"box":[30,0,60,80]},{"digit":7,"box":[70,0,110,80]}],
	  "fixes":[{"box":[30,0,60,80],"op":"delete"},{"box":[200,0,200,80],"digit":4,"op":"insert"}]}`)
	out, err := Clerk(ci, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(out.Review)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(out.Object())
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal(want, &a)
	_ = json.Unmarshal(got, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("object\n%s\nwant Review's JSON\n%s", got, want)
	}
	if out.Code != "774" || !out.Edited {
		t.Errorf("code %q edited %v", out.Code, out.Edited)
	}
}
