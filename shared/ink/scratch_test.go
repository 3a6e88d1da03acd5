package ink

import "testing"

func line(pts ...float64) Stroke {
	var s Stroke
	for i := 0; i+1 < len(pts); i += 2 {
		s = append(s, Point{pts[i], pts[i+1]})
	}
	return s
}

func zigzag(x0, x1, y0, y1 float64, turns int) Stroke {
	var s Stroke
	for i := 0; i <= turns; i++ {
		y := y0 + (y1-y0)*float64(i)/float64(turns)
		if i%2 == 0 {
			s = append(s, Point{x0, y}, Point{(x0 + x1) / 2, y + 1})
		} else {
			s = append(s, Point{x1, y}, Point{(x0 + x1) / 2, y + 1})
		}
	}
	return s
}

func TestScratchOut(t *testing.T) {
	zero := line(100, 20, 80, 60, 100, 100, 120, 60, 100, 20) // an "0" at x 80..120
	one := line(200, 20, 200, 100)
	// Scribbling over the 0 erases the 0 and the scribble, not the 1.
	got := ScratchOut([]Stroke{zero, one, zigzag(75, 125, 15, 105, 8)})
	if len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Errorf("scribble over the 0: erase %v, want [0 2]", got)
	}
	// Writing a 7 or an 8 is not a scribble.
	seven := line(150, 20, 190, 20, 165, 100)
	eight := line(100, 20, 80, 40, 120, 80, 100, 100, 80, 80, 120, 40, 100, 20)
	for name, s := range map[string]Stroke{"7": seven, "8": eight, "1": line(110, 20, 110, 100)} {
		if got := ScratchOut([]Stroke{zero, s}); got != nil {
			t.Errorf("a %s after the 0 erased %v", name, got)
		}
	}
	// A scribble over blank paper erases nothing (it is ink the recogniser will judge).
	if got := ScratchOut([]Stroke{one, zigzag(300, 350, 15, 105, 8)}); got != nil {
		t.Errorf("scribble on blank paper erased %v", got)
	}
}
