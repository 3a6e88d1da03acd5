package server

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"digitpad/shared/protocol"
)

// memBudget bounds the bytes that decoded images and their working planes may hold at once, across all
// requests: a weighted semaphore whose weights are the bytes an image will take, known from its header before
// any pixel is decoded. A decompression bomb within the size limits (a 38 KB PNG that inflates to 32 MB of
// 16-bit RGBA) waits for room instead of adding its 32 MB to every other one's, so the process's heap stays
// near the budget whatever arrives; an image that could never fit is refused as too_large.
//
// Large images (over a sixteenth of the budget each) also take their bytes from a second semaphore of half the
// budget, so bombs queue behind each other while a pad's ordinary canvases (about 1 MB each) always find the
// other half free instead of waiting behind them.
type memBudget struct {
	sem   *semaphore.Weighted
	large *semaphore.Weighted // half of total, for images over total/16
	total int64
	wait  time.Duration // longest wait for room before answering overloaded
}

func newMemBudget(total int64, wait time.Duration) *memBudget {
	return &memBudget{sem: semaphore.NewWeighted(total), large: semaphore.NewWeighted(total / 2), total: total, wait: wait}
}

// errNoRoom is returned by acquire when the budget stayed full for the whole wait.
var errNoRoom = errors.New("memory budget full")

// acquire reserves n bytes, waiting at most b.wait (or until ctx ends); release gives them back.
func (b *memBudget) acquire(ctx context.Context, n int64) (release func(), err error) {
	if r := reservedIn(ctx); r != nil && !r.taken {
		r.taken = true
		return r.release, nil
	}
	if n > b.total/2 {
		return nil, fmt.Errorf("needs %d bytes, more than half the decode budget of %d", n, b.total)
	}
	large := n > b.total/16
	release = func() {
		b.sem.Release(n)
		if large {
			b.large.Release(n)
		}
	}
	// The common case, room at once, without the timer a wait needs (a context with a deadline per request).
	if !large && b.sem.TryAcquire(n) {
		return release, nil
	}
	// One wait for both semaphores, starting at the first that has no room.
	var wctx context.Context
	cancel := context.CancelFunc(func() {})
	defer func() { cancel() }()
	take := func(s *semaphore.Weighted) error {
		if s.TryAcquire(n) {
			return nil
		}
		if wctx == nil {
			wctx, cancel = context.WithTimeout(ctx, b.wait)
		}
		if err := s.Acquire(wctx, n); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errNoRoom
		}
		return nil
	}
	if large {
		if err := take(b.large); err != nil {
			return nil, err
		}
	}
	if err := take(b.sem); err != nil {
		if large {
			b.large.Release(n)
		}
		return nil, err
	}
	return release, nil
}

// imageCost is the memory decoding and preparing a w×h image takes: its decoded pixels at the bit depth the
// header announces (16-bit RGBA is 8 bytes a pixel) plus the byte planes and labels of mask building and
// segmentation (about 8 bytes a pixel).
func imageCost(cfg image.Config) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	return px * (bytesPerPixel(cfg.ColorModel) + 8)
}

func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.YCbCrModel:
		return 3
	default: // RGBA, NRGBA, CMYK, paletted and anything unknown: 4 bytes, the widest 8-bit form
		if _, ok := m.(color.Palette); ok {
			return 1
		}
		return 4
	}
}

// requestAllowance is the decode bytes one request may still spend, kept in its context (batch requests): the
// per-process budget bounds memory at any moment, this bounds one request's total work, so a batch of 64 bombs
// costs the CPU of decoding a budget's worth of them, not of all 64.
type requestAllowance struct {
	mu   sync.Mutex
	left int64
	all  int64
}

type allowanceKey struct{}

func withAllowance(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, allowanceKey{}, &requestAllowance{left: n, all: n})
}

// spend takes n bytes from the request's allowance, if it has one.
func spend(ctx context.Context, n int64) *APIError {
	if r := reservedIn(ctx); r != nil && !r.spent {
		r.spent = true // spent when the reservation was made
		return nil
	}
	a, ok := ctx.Value(allowanceKey{}).(*requestAllowance)
	if !ok {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if n > a.left {
		return apiErr(protocol.ETooLarge, fmt.Sprintf("the request's images exceed its decode budget of %d bytes "+
			"(counted from image headers); send fewer or smaller images per request", a.all))
	}
	a.left -= n
	return nil
}

// budgetError maps an acquire error to the API's answer.
func (s *Server) budgetError(err error) error {
	switch {
	case errors.Is(err, errNoRoom):
		return withRetryAfter(apiErr(protocol.EOverloaded, "server busy decoding other images, retry later"),
			s.cfg.RetryAfter)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errCancelled()
	default:
		return apiErr(protocol.ETooLarge, "image too large to decode: "+err.Error())
	}
}

// reservation is an image's decode cost taken in advance (a batch item, before it takes an admission slot):
// the next image priced under the context carrying it (priceImage: spend, then acquire) uses it instead of
// taking its cost again. One reservation is for one image, priced by one goroutine.
type reservation struct {
	spent, taken bool
	release      func()
}

type reservationKey struct{}

// withReservation wraps a decode-budget release into a reservation carried by the returned context; the returned
// release is idempotent, so the holder may call it whether or not the decoder already has.
func withReservation(ctx context.Context, release func()) (context.Context, func()) {
	once := sync.OnceFunc(release)
	return context.WithValue(ctx, reservationKey{}, &reservation{release: once}), once
}

func reservedIn(ctx context.Context) *reservation {
	r, _ := ctx.Value(reservationKey{}).(*reservation)
	return r
}
