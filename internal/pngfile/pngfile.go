// Package pngfile writes images as PNG files for the project's analysis tools (internal/canvasgap,
// train/retrain/internal/recipetune): one place for create, encode and close with their errors.
package pngfile

import (
	"fmt"
	"image"
	"image/png"
	"os"
)

// Write encodes img as a PNG file at path (created or truncated).
func Write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}
