package ink

// EstimateSlant is the layout's slant estimate for all the ink of m (for the external tests).
func EstimateSlant(m *Mask) float64 {
	l := label(m)
	keep := make([]int32, len(l.comps))
	for i := range keep {
		keep[i] = int32(i)
	}
	return estimateSlant(l, keep, penWidth(l, keep), inkHeight(l, keep))
}
