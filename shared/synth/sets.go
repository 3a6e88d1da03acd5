package synth

import (
	"fmt"
	"image"
	"math/rand/v2"
)

// SetKind is a kind of labelled canvas set written by synthetic writers.
type SetKind int

// Set kinds.
const (
	CleanDigits    SetKind = iota // single digits, steady hands, many pens, either polarity
	UnsteadyDigits                // single digits, unsteady hands: strong slant, tremor, extreme pens
	Codes5                        // 5-digit codes, every fourth written tightly
)

// ParseSetKind reads "clean", "unsteady" or "codes".
func ParseSetKind(s string) (SetKind, error) {
	switch s {
	case "clean":
		return CleanDigits, nil
	case "unsteady":
		return UnsteadyDigits, nil
	case "codes":
		return Codes5, nil
	}
	return 0, fmt.Errorf("synth: set kind %q: want clean, unsteady or codes", s)
}

// SetCanvas is item i of a labelled set of the given kind, written by writers of one range (writers hands
// take turns; kinds use separate stretches of the range, so sets share no hands). It returns the canvas and its
// label. Deterministic given (writers, kind, seed, i, nWriters).
func SetCanvas(ws WriterSet, kind SetKind, seed uint64, i, nWriters int) (image.Image, string, error) {
	img, sh, err := SetSheet(ws, kind, seed, i, nWriters)
	if err != nil {
		return nil, "", err
	}
	return img, sh.Code.Text, nil
}

// SetSheet is SetCanvas with the sheet the canvas was written on: its Code holds the pen paths (canvas
// coordinates, time order) and which digit each stroke belongs to, for stroke input of the same item.
func SetSheet(ws WriterSet, kind SetKind, seed uint64, i, nWriters int) (image.Image, *Sheet, error) {
	if nWriters < 1 || i < 0 {
		return nil, nil, fmt.Errorf("synth: set item %d of %d writers", i, nWriters)
	}
	hand := map[SetKind]Hand{CleanDigits: Steady, UnsteadyDigits: Unsteady, Codes5: AnyHand}[kind]
	base := uint64(kind)<<20 + seed<<24
	wr := NewWriter(WriterID(ws, base+uint64(i%nWriters)), hand)
	rng := rand.New(rand.NewPCG(seed^uint64(kind)<<32, uint64(i)))
	var text string
	var cw, ch int
	height := 40 + 100*rng.Float64()
	tight := false
	if kind == Codes5 {
		text = fmt.Sprintf("%05d", rng.IntN(100000))
		tight = i%4 == 3
		cw, ch = 640, 240
		height = 50 + 90*rng.Float64()
	} else {
		text = string(rune('0' + i%10))
		cw, ch = int(height*(1.3+rng.Float64())), int(height*(1.3+0.7*rng.Float64()))
	}
	sh, err := wr.Write(text, rng.Uint64(), cw, ch, height, tight)
	if err != nil {
		return nil, nil, err
	}
	if rng.IntN(4) == 0 {
		return Invert(sh.Image), sh, nil
	}
	return sh.Image, sh, nil
}
