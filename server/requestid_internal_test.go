package server

import (
	"fmt"
	"testing"
)

// Request ids are the server's prefix and the sequence number, zero-padded to six digits.
func TestNewRequestID_PrefixAndPaddedSequence(t *testing.T) {
	s := &Server{reqPfx: "k3x-"}
	for _, n := range []uint64{1, 9, 10, 99999, 100000, 999999, 1000000, 123456789012} {
		s.reqSeq.Store(n - 1)
		if got, want := s.newRequestID(), fmt.Sprintf("k3x-%06d", n); got != want {
			t.Errorf("request %d: id %q, want %q", n, got, want)
		}
	}
}
