package ink

import (
	"fmt"
	"testing"
)

// DebugPlan is called from the external test package through export_test.go.
func DebugPlan(t *testing.T, m *Mask, opt Options) {
	lay, err := plan(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("H", lay.codeH, "typW", lay.typW)
	for _, g := range lay.groups {
		fmt.Println(g.x0, g.y0, g.x1, g.y1, g.k, len(g.comps))
	}
	for _, c := range lay.l.comps {
		fmt.Println("comp", c)
	}
}
