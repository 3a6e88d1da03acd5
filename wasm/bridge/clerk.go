package bridge

import (
	"fmt"

	"digitpad/shared/recognize"
)

// ClerkInput is what the pad knows about the code on screen: the recogniser's digits and flags, the clerk's
// fixes (set, delete, insert), the format, whether the clerk pressed "confirm anyway", a typed code, and
// optionally one edit to make now.
type ClerkInput struct {
	Digits  []recognize.Digit `json:"digits"`
	Confirm []int             `json:"confirm"`
	Fixes   []recognize.Fix   `json:"fixes"`
	Format  string            `json:"format"`
	Anyway  bool              `json:"anyway"`
	// Typed, when IsTyped, is a code the clerk typed instead of the ink's reading (recognize.ReviewTyped).
	Typed   string `json:"typed"`
	IsTyped bool   `json:"is_typed"`
	// Edit, when not nil, is applied before the code is shown: Review.Set, Delete or Insert.
	Edit *Edit `json:"edit,omitempty"`
}

// Edit is one edit of the code by the clerk: Op "set" (slot At is Digit), "delete" (slot At) or "insert"
// (Digit becomes slot At).
type Edit struct {
	Op    string `json:"op"`
	At    int    `json:"at"`
	Digit int    `json:"digit"`
}

// ClerkOutput is how the pad shows that code: recognize.Review (slots, deletions, the fixes to keep, whether
// and why not it may be confirmed).
type ClerkOutput struct {
	recognize.Review
}

// Clerk applies recognize.ReviewDigits (or ReviewTyped) and the clerk's edit to what the pad knows, for the
// pad's main thread, which holds the clerk's fixes and must not re-implement any of these rules. patterns
// compiles a pattern format (recognize.ParseFormatWith; the pad passes BrowserPatterns, nil means the build's
// default).
func Clerk(ci ClerkInput, patterns recognize.PatternCompiler) (*ClerkOutput, error) {
	f, err := recognize.ParseFormatWith(ci.Format, patterns)
	if err != nil {
		return nil, wrapInvalid(err.Error())
	}
	if ci.IsTyped {
		return &ClerkOutput{recognize.ReviewTyped(f, ci.Typed)}, nil
	}
	r := recognize.ReviewDigits(f, ci.Digits, ci.Confirm, ci.Fixes, ci.Anyway)
	if e := ci.Edit; e != nil {
		var fixes []recognize.Fix
		switch e.Op {
		case "set":
			fixes, err = r.Set(e.At, e.Digit)
		case "delete":
			fixes, err = r.Delete(e.At)
		case "insert":
			fixes, err = r.Insert(e.At, e.Digit)
		default:
			err = fmt.Errorf("unknown edit %q (set, delete or insert)", e.Op)
		}
		if err != nil {
			return nil, wrapInvalid(err.Error())
		}
		r = recognize.ReviewDigits(f, ci.Digits, ci.Confirm, fixes, false) // an edit asks for a new look
	}
	return &ClerkOutput{r}, nil
}

// Object is the ClerkOutput as the JavaScript object the bridge returns (no encoding/json in the wasm: it
// would add ~150 kB gzip to the pad's download). TestClerkObject_IsReviewJSON pins it to Review's JSON.
func (o *ClerkOutput) Object() map[string]any {
	ints := func(v []int) []any {
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	}
	slots := make([]any, len(o.Slots))
	for i, s := range o.Slots {
		m := map[string]any{"digit": s.Digit, "index": s.Index, "fixed": s.Fixed, "box": ints(s.Box[:]), "fix": s.Fix}
		if s.Top != nil {
			m["top"] = ints(s.Top)
		}
		slots[i] = m
	}
	fixes := make([]any, len(o.Fixes))
	for i, f := range o.Fixes {
		m := map[string]any{"box": ints(f.Box[:]), "digit": f.Digit}
		if f.Op != "" {
			m["op"] = f.Op
		}
		fixes[i] = m
	}
	verdict := map[string]any{"ok": o.Verdict.OK}
	if o.Verdict.Reason != "" {
		verdict["reason"] = o.Verdict.Reason
	}
	if o.Verdict.Format {
		verdict["format"] = true
	}
	if o.Verdict.Doubtful != nil {
		verdict["doubtful"] = ints(o.Verdict.Doubtful)
	}
	out := map[string]any{"code": o.Code, "slots": slots, "fixes": fixes, "verdict": verdict}
	if o.Deleted != nil {
		out["deleted"] = ints(o.Deleted)
	}
	if o.Edited {
		out["edited"] = true
	}
	if o.Typed {
		out["typed"] = true
	}
	return out
}
