package server

import (
	"context"
	"errors"
	"image"
	"image/color"
	"testing"
)

// The decode budget: large images (over a sixteenth) share half of it, so with bombs holding that half an
// ordinary canvas still gets room at once; an image larger than half the budget is refused outright; a full
// budget answers errNoRoom after the wait (zero here), and releases give the bytes back.
func TestMemBudget_LargeImagesLeaveRoomForSmallOnes(t *testing.T) {
	b := newMemBudget(1600, 0)
	ctx := context.Background()
	bomb, err := b.acquire(ctx, 800) // a large image: takes all of the large half
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.acquire(ctx, 400); !errors.Is(err, errNoRoom) {
		t.Errorf("second large image while the first holds the large half: %v, want errNoRoom", err)
	}
	var small []func()
	for range 8 { // 8 × 100 bytes: the other half, all at once
		r, err := b.acquire(ctx, 100)
		if err != nil {
			t.Fatalf("small image with a bomb in flight: %v", err)
		}
		small = append(small, r)
	}
	if _, err := b.acquire(ctx, 1); !errors.Is(err, errNoRoom) {
		t.Errorf("beyond the budget: %v, want errNoRoom", err)
	}
	bomb()
	for _, r := range small {
		r()
	}
	if r, err := b.acquire(ctx, 800); err != nil {
		t.Errorf("after releases the large half is free again: %v", err)
	} else {
		r()
	}
	if _, err := b.acquire(ctx, 801); err == nil || errors.Is(err, errNoRoom) {
		t.Errorf("more than half the budget: %v, want a too-large error", err)
	}
}

// imageCost prices the header's bit depth: a 16-bit RGBA pixel takes 8 bytes before the working planes.
func TestImageCost_CountsBitDepth(t *testing.T) {
	c8 := imageCost(image.Config{Width: 100, Height: 10, ColorModel: color.RGBAModel})
	c16 := imageCost(image.Config{Width: 100, Height: 10, ColorModel: color.RGBA64Model})
	g := imageCost(image.Config{Width: 100, Height: 10, ColorModel: color.GrayModel})
	if c8 != 1000*(4+8) || c16 != 1000*(8+8) || g != 1000*(1+8) {
		t.Errorf("costs %d, %d, %d; want 12000, 16000, 9000", c8, c16, g)
	}
}
