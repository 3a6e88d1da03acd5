package store

import (
	"fmt"

	"github.com/google/uuid"
)

// NewID returns a new time-ordered id (a UUIDv7 string) for predictions and feedback: ids sort roughly by creation
// time, which keeps index inserts local.
func NewID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return id.String(), nil
}
