package ink

// A two-digit piece (Lattice.Pairs) reaches a reader of digit pairs as one 28×28 input, so that the digit
// model's trainer, exporter and runtime serve it unchanged: the crop is squeezed to half its width (each output
// column the darker of two neighbouring ones, so strokes keep their ink), then normalised like a digit
// (fromCrop). Two neighbouring digits side by side are about as wide as one digit is tall, so the squeezed pair
// is about as wide as one digit.

// Pair normalises pair piece i of the lattice (its Box is Pairs()[i].Box; Pairs must have been called) into a
// 28×28 input for a pair reader. Like Digit, each call does the work anew and is not safe for concurrent use.
func (l *Lattice) Pair(i int) [784]float32 {
	buf, cw, ch, _ := l.lay.cropPiece(l.m, l.pairPieces[i], l.pairs[i].Box, nil)
	return pairInput(buf, cw, ch, l.opt.strokeWidth())
}

// WholePair normalises all the ink of a mask (two neighbouring digits) as Lattice.Pair normalises a pair
// piece: for training and testing a pair reader on canvases of two digits.
func WholePair(m *Mask, opt Options) ([784]float32, error) {
	if err := m.validate(); err != nil {
		return [784]float32{}, err
	}
	lay, p, err := wholePiece(m)
	if err != nil {
		return [784]float32{}, err
	}
	box, ok := lay.pieceBox(m, p)
	if !ok {
		return [784]float32{}, ErrNoInk
	}
	buf, cw, ch, _ := lay.cropPiece(m, p, box, nil)
	return pairInput(buf, cw, ch, opt.strokeWidth()), nil
}

// pairInput squeezes a cw×ch crop to half its width and normalises it as a digit.
func pairInput(buf []float32, cw, ch int, T float64) [784]float32 {
	hw := (cw + 1) / 2
	sq := make([]float32, hw*ch)
	for y := range ch {
		row := buf[y*cw : (y+1)*cw]
		for x := range hw {
			v := row[2*x]
			if 2*x+1 < cw {
				v = max(v, row[2*x+1])
			}
			sq[y*hw+x] = v
		}
	}
	return fromCrop(sq, hw, ch, T)
}
