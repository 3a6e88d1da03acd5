package retrain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image/png"
	"sort"
	"time"

	"digitpad/server/store"
	"digitpad/shared/recognize"
)

// Sample is one labelled digit from a clerk's confirmed code.
type Sample struct {
	Input [784]float32 // 0..1, ink = 1
	Label uint8
	// Predicted is the digit the serving model proposed (-1: unknown), with its confidence.
	Predicted  int
	Confidence float64
	RecordID   string
	Client     string
	// New marks digits of records after the base's snapshot.
	New bool
	At  time.Time
}

// Corrected reports whether the clerk changed the model's digit.
func (s Sample) Corrected() bool { return s.Predicted >= 0 && s.Predicted != int(s.Label) }

// Records are the feedback records a retrain reads, split into the digits it may learn from and the sealed
// holdout.
type Records struct {
	// Train are the digits of every record except the holdout (all past corrections are replayed).
	Train []Sample
	// Holdout are the digits of the newest records since the base's snapshot; never trained on.
	Holdout []Sample
	// New counts the records after the base's snapshot; Skipped the records that gave no usable digit.
	New, Skipped int
	// FirstID and LastID bound the records read (store ids, insertion order).
	FirstID, LastID string
	// Digest is the sha256 of every used digit's record id, label and input bytes: the data snapshot's name.
	Digest string
}

// ReadRecords reads every feedback record of st (insertion order); those after sinceID are new, and the newest
// holdoutFrac of the new records (at least one) become the holdout. Inputs come from the record, or are
// recomputed from its ink with rec when it has none; records whose digit count does not match their code are
// skipped and counted.
func ReadRecords(ctx context.Context, st store.Store, sinceID string, holdoutFrac float64, rec *recognize.Recognizer) (*Records, error) {
	var all []store.Feedback
	after := ""
	for {
		page, err := st.Feedback(ctx, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("retrain: read feedback: %w", err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	out := &Records{}
	if len(all) == 0 {
		return out, nil
	}
	out.FirstID, out.LastID = all[0].ID, all[len(all)-1].ID
	firstNew := 0
	if sinceID != "" {
		firstNew = len(all)
		for i, f := range all {
			if f.ID == sinceID {
				firstNew = i + 1
				break
			}
		}
		if firstNew == len(all) && all[len(all)-1].ID != sinceID {
			// The snapshot's last record is gone (retention): treat everything as new.
			firstNew = 0
		}
	}
	newRecs := append([]store.Feedback(nil), all[firstNew:]...)
	out.New = len(newRecs)
	// The newest records by time are the holdout.
	sort.SliceStable(newRecs, func(i, j int) bool { return newRecs[i].ReceivedAt.Before(newRecs[j].ReceivedAt) })
	nh := 0
	if len(newRecs) > 0 {
		nh = max(1, int(holdoutFrac*float64(len(newRecs))+0.5))
	}
	holdout := map[string]bool{}
	for _, f := range newRecs[len(newRecs)-nh:] {
		holdout[f.ID] = true
	}
	h := sha256.New()
	for i := range all {
		f := &all[i]
		ss, err := samples(f, rec)
		if err != nil || len(ss) == 0 {
			out.Skipped++
			continue
		}
		for k := range ss {
			ss[k].New = i >= firstNew
		}
		for _, s := range ss {
			h.Write([]byte(s.RecordID))
			h.Write([]byte{s.Label})
			for _, v := range s.Input {
				_ = binary.Write(h, binary.LittleEndian, v)
			}
		}
		if holdout[f.ID] {
			out.Holdout = append(out.Holdout, ss...)
		} else {
			out.Train = append(out.Train, ss...)
		}
	}
	out.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return out, nil
}

// samples turns one record into labelled digits.
func samples(f *store.Feedback, rec *recognize.Recognizer) ([]Sample, error) {
	labels := f.Labels
	if len(labels) == 0 {
		for _, c := range f.Code {
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("record %s: code %q is not digits", f.ID, f.Code)
			}
			labels = append(labels, int(c-'0'))
		}
	}
	var inputs [][784]float32
	switch {
	case len(f.Inputs) == len(labels) && len(labels) > 0:
		for i, in := range f.Inputs {
			if len(in) != 784 {
				return nil, fmt.Errorf("record %s: input %d has %d bytes", f.ID, i, len(in))
			}
			var x [784]float32
			for j, b := range in {
				x[j] = float32(b) / 255
			}
			inputs = append(inputs, x)
		}
	case len(f.InkPNG) > 0 && rec != nil:
		img, err := png.Decode(bytes.NewReader(f.InkPNG))
		if err != nil {
			return nil, fmt.Errorf("record %s: ink: %w", f.ID, err)
		}
		res, err := rec.Image(img, recognize.Options{Format: fmt.Sprint(len(labels))})
		if err != nil {
			return nil, fmt.Errorf("record %s: recompute inputs: %w", f.ID, err)
		}
		if len(res.Inputs) != len(labels) {
			return nil, fmt.Errorf("record %s: ink segments into %d digits, code has %d", f.ID, len(res.Inputs), len(labels))
		}
		inputs = res.Inputs
	default:
		return nil, fmt.Errorf("record %s: no inputs and no ink", f.ID)
	}
	out := make([]Sample, len(labels))
	for i, l := range labels {
		if l < 0 || l > 9 {
			return nil, fmt.Errorf("record %s: label %d", f.ID, l)
		}
		s := Sample{Input: inputs[i], Label: uint8(l), Predicted: -1, RecordID: f.ID, Client: f.ClientID, At: f.ReceivedAt}
		if len(f.Digits) == len(labels) {
			s.Predicted, s.Confidence = f.Digits[i].Digit, f.Digits[i].Confidence
		} else if len(f.Predicted) == len(labels) && f.Predicted[i] >= '0' && f.Predicted[i] <= '9' {
			s.Predicted = int(f.Predicted[i] - '0')
		}
		out[i] = s
	}
	return out, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
