package retrain

import (
	"fmt"
	"sort"
)

// ScreenConfig bounds what one client may teach the model.
type ScreenConfig struct {
	// MinDigits: clients with fewer digits are only capped, not judged (too little evidence). Default 20.
	MinDigits int
	// MaxLabelShare: a client whose most frequent label is more than this share of its digits is excluded
	// (a kiosk that sends one label for everything). Default 0.6 (postal codes use every digit).
	MaxLabelShare float64
	// Confident is the base model's confidence above which a relabel counts as a disagreement. Default 0.99.
	Confident float64
	// MaxDisagree: a client that relabels more than this share of the digits the base reads confidently is
	// excluded (careless or hostile labels). Default 0.6.
	MaxDisagree float64
	// CapPerClient keeps at most this many of a client's digits (its newest). Default 5000.
	CapPerClient int
}

func (c ScreenConfig) withDefaults() ScreenConfig {
	if c.MinDigits == 0 {
		c.MinDigits = 20
	}
	if c.MaxLabelShare == 0 {
		c.MaxLabelShare = 0.6
	}
	if c.Confident == 0 {
		c.Confident = 0.99
	}
	if c.MaxDisagree == 0 {
		c.MaxDisagree = 0.6
	}
	if c.CapPerClient == 0 {
		c.CapPerClient = 5000
	}
	return c
}

// ClientCheck is the screening verdict on one client's digits.
type ClientCheck struct {
	Client     string  `json:"client"`
	Digits     int     `json:"digits"`
	LabelShare float64 `json:"label_share"` // share of its most frequent label
	Disagree   float64 `json:"disagree"`    // relabels among digits the base read confidently
	Kept       int     `json:"kept"`
	// Misaligned counts the digits left out because their record's correction is a shift of the reading
	// (see Misaligned).
	Misaligned int    `json:"misaligned,omitempty"`
	Excluded   string `json:"excluded,omitempty"` // the reason, when excluded
}

// Misaligned reports whether a clerk's labels read like the model's reading shifted by inserted or dropped
// digits rather than digits misread: the edit distance between reading and labels (insertions and deletions
// allowed) is smaller than the number of positions that differ. 74357 read as 17435 is one such case —
// segmentation cut the 7 in two and lost the last digit — and then each input shows a neighbour's digit, not
// its label. Such inputs would teach the classifier wrong digits, so they are not trained on (as the pad drops
// the inputs of a code the clerk edited by inserting or deleting digits).
func Misaligned(reading []int, labels []uint8) bool {
	if len(reading) != len(labels) {
		return false
	}
	ham := 0
	for i := range labels {
		if reading[i] != int(labels[i]) {
			ham++
		}
	}
	if ham < 2 {
		return false
	}
	// Levenshtein distance, one row at a time.
	prev := make([]int, len(labels)+1)
	cur := make([]int, len(labels)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(reading); i++ {
		cur[0] = i
		for j := 1; j <= len(labels); j++ {
			sub := prev[j-1]
			if reading[i-1] != int(labels[j-1]) {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(labels)] < ham
}

// misalignedRecords returns the records whose digits all have a reading and whose labels are a shift of it.
func misalignedRecords(ss []Sample) map[string]bool {
	out := map[string]bool{}
	for from := 0; from < len(ss); {
		to := from
		for to < len(ss) && ss[to].RecordID == ss[from].RecordID {
			to++
		}
		reading, labels := make([]int, 0, to-from), make([]uint8, 0, to-from)
		for _, s := range ss[from:to] {
			reading, labels = append(reading, s.Predicted), append(labels, s.Label)
		}
		known := true
		for _, r := range reading {
			known = known && r >= 0
		}
		if known && Misaligned(reading, labels) {
			out[ss[from].RecordID] = true
		}
		from = to
	}
	return out
}

// Screen applies per-client agreement checks and caps to the training digits, and leaves out the digits of
// records whose correction is a shift of the model's reading (Misaligned). basePred and baseConf are the
// base model's prediction and confidence for each sample. It returns the kept samples and one check per client.
func Screen(ss []Sample, basePred []int, baseConf []float64, cfg ScreenConfig) ([]Sample, []ClientCheck) {
	cfg = cfg.withDefaults()
	byClient := map[string][]int{}
	var clients []string
	for i, s := range ss {
		if _, ok := byClient[s.Client]; !ok {
			clients = append(clients, s.Client)
		}
		byClient[s.Client] = append(byClient[s.Client], i)
	}
	sort.Strings(clients)
	shifted := misalignedRecords(ss)
	keep := make([]bool, len(ss))
	var checks []ClientCheck
	for _, c := range clients {
		idx := byClient[c]
		ck := ClientCheck{Client: c, Digits: len(idx)}
		var counts [10]int
		confident, disagree := 0, 0
		for _, i := range idx {
			counts[ss[i].Label]++
			if baseConf[i] >= cfg.Confident {
				confident++
				if basePred[i] != int(ss[i].Label) {
					disagree++
				}
			}
		}
		top, topLabel := 0, 0
		for l, n := range counts {
			if n > top {
				top, topLabel = n, l
			}
		}
		ck.LabelShare = float64(top) / float64(len(idx))
		if confident > 0 {
			ck.Disagree = float64(disagree) / float64(confident)
		}
		if len(idx) >= cfg.MinDigits {
			switch {
			case ck.LabelShare > cfg.MaxLabelShare:
				ck.Excluded = fmt.Sprintf("client %s labels %.0f%% of its %d digits %d (limit %.0f%%)", c,
					100*ck.LabelShare, len(idx), topLabel, 100*cfg.MaxLabelShare)
			case confident >= cfg.MinDigits && ck.Disagree > cfg.MaxDisagree:
				ck.Excluded = fmt.Sprintf("client %s relabels %.0f%% of the %d digits the base model reads with confidence >= %.2f (limit %.0f%%)",
					c, 100*ck.Disagree, confident, cfg.Confident, 100*cfg.MaxDisagree)
			}
		}
		if ck.Excluded == "" {
			// newest first up to the cap (samples are in insertion order)
			from := max(0, len(idx)-cfg.CapPerClient)
			for _, i := range idx[from:] {
				if shifted[ss[i].RecordID] {
					ck.Misaligned++
					continue
				}
				keep[i] = true
				ck.Kept++
			}
		}
		checks = append(checks, ck)
	}
	var out []Sample
	for i, s := range ss {
		if keep[i] {
			out = append(out, s)
		}
	}
	return out, checks
}
