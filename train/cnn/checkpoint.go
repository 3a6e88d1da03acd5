package cnn

import (
	"encoding/gob"
	"fmt"
	"io"
)

// checkpoint is the on-disk form of a Net: its architecture string and every parameter tensor by name.
type checkpoint struct {
	Arch   string
	Names  []string
	Params [][]float32
}

// Save writes the net's architecture and parameters (gob) so it can be re-exported without retraining.
func (n *Net) Save(w io.Writer) error {
	c := checkpoint{Arch: n.Arch.String(), Params: n.Snapshot()}
	for _, p := range n.Params {
		c.Names = append(c.Names, p.Name)
	}
	if err := gob.NewEncoder(w).Encode(&c); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// Load reads a net written by Save.
func Load(r io.Reader) (*Net, error) {
	var c checkpoint
	if err := gob.NewDecoder(r).Decode(&c); err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	arch, err := ParseArch(c.Arch)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	n, err := New(arch, 0)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	if err := n.Restore(c.Params); err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	return n, nil
}
