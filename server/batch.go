package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"digitpad/shared/protocol"
)

// batchPath is the batch route; its requests are admitted item by item (handleBatch), not by the admission
// middleware.
const batchPath = "/v1/predict/batch"

// handleBatch recognises a batch's items as one admission unit whose weight is its items: each item takes an
// admission slot of its own, first come first served among every other client's predictions, for the time its
// work takes, and at most batchParallelism items of a batch hold slots at once. A batch of 64 canvas-wide
// zigzags therefore weighs what 64 such single requests weigh, instead of 64 requests' CPU behind one slot
// (issue 18). Each item is also priced before it takes a slot: an image's decoded size is reserved from the
// decode budget and the request's decode allowance first (priceItem), so a decompression bomb waiting for
// memory holds no slot, and strokes are refused by their raster cost before anything is drawn (ink.RasterCost).
//
// Rate limits count items too: the request took one token from its client's bucket, its other items take theirs
// before any work (chargeItems), so a batch of 64 spends what 64 requests would.
//
// The batch is admitted as a whole: when admission sheds it before any item got a slot, the answer is 503
// overloaded with Retry-After, as for a single request. Once an item has been shed the batch stops taking slots:
// items not yet done are answered overloaded in their results (retryable), and items the client left before are
// not started.
func (s *Server) handleBatch(ctx context.Context, in *batchInput) (*batchOutput, error) {
	var req BatchRequest
	if err := decodeJSON(in.RawBody, &req); err != nil {
		return nil, err
	}
	switch {
	case len(req.Items) == 0:
		return nil, apiErr(protocol.EInvalid, "no items")
	case len(req.Items) > s.cfg.Limits.MaxBatchItems:
		return nil, apiErr(protocol.ETooLarge, fmt.Sprintf("%d items exceed the limit of %d", len(req.Items),
			s.cfg.Limits.MaxBatchItems))
	}
	if err := s.chargeItems(ctx, len(req.Items)-1); err != nil {
		return nil, err
	}
	out := &batchOutput{}
	out.Body.Results = make([]BatchResult, len(req.Items))
	ctx = withAllowance(ctx, s.cfg.DecodeBudget)
	var run batchRun
	next := make(chan int, len(req.Items))
	for i := range req.Items {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(len(req.Items), s.batchParallelism()) {
		wg.Go(func() {
			for i := range next {
				it := &req.Items[i]
				if it.Format == "" {
					it.Format = req.Format
				}
				p, err := s.batchItem(ctx, it, in.ClientID, &run)
				if err != nil {
					ae := fromProtocol(err)
					out.Body.Results[i].Error = &protocol.Error{Code: ae.Code, Message: ae.Message}
					continue
				}
				out.Body.Results[i].Prediction = p
			}
		})
	}
	wg.Wait()
	switch {
	case ctx.Err() != nil:
		return nil, errCancelled()
	case run.shed.Load() && run.admitted.Load() == 0:
		return nil, withRetryAfter(apiErr(protocol.EOverloaded, "server overloaded: batch refused, retry later"),
			s.cfg.RetryAfter)
	}
	return out, nil
}

// batchRun is what a batch's workers share: whether admission has shed one of its items, and how many got a
// slot.
type batchRun struct {
	shed     atomic.Bool
	admitted atomic.Int64
}

// batchParallelism is how many items of one batch may hold admission slots at once: half the slots, so one
// batch never takes them all (with the default 2×GOMAXPROCS slots, one item per core).
func (s *Server) batchParallelism() int {
	return max(1, s.cfg.MaxInFlight/2)
}

// batchItem validates and prices one item, takes an admission slot for it and recognises it.
func (s *Server) batchItem(ctx context.Context, it *protocol.Predict, clientID string, run *batchRun) (*protocol.Prediction, error) {
	if ctx.Err() != nil {
		return nil, errCancelled()
	}
	if err := it.Validate(s.cfg.Limits); err != nil {
		return nil, fromProtocol(err)
	}
	if run.shed.Load() {
		return nil, batchShed()
	}
	ctx, release, err := s.priceItem(ctx, it)
	if err != nil {
		return nil, err
	}
	defer release()
	flow, _ := ctx.Value(flowKey{}).(string)
	done, ok := s.admit.acquire(ctx, flow)
	if !ok {
		if ctx.Err() != nil {
			return nil, errCancelled()
		}
		run.shed.Store(true)
		return nil, batchShed()
	}
	defer done()
	run.admitted.Add(1)
	return s.predictRequest(ctx, it, clientID)
}

func batchShed() *APIError {
	return apiErr(protocol.EOverloaded, "server overloaded: this item was not recognised, send it again later")
}

// priceItem reserves an image item's decode cost (decode budget and the request's allowance) before the item
// takes an admission slot; the returned context carries the reservation to the decoder (see withReservation), and
// release gives back whatever the decoder has not already released. Stroke items cost nothing here: their
// raster cost is checked before drawing.
func (s *Server) priceItem(ctx context.Context, it *protocol.Predict) (context.Context, func(), error) {
	if it.Image == "" {
		return ctx, func() {}, nil
	}
	raw, aerr := decodeBase64(it.Image)
	if aerr != nil {
		return nil, nil, aerr
	}
	_, release, err := s.priceImage(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	ctx, release = withReservation(ctx, release)
	return ctx, release, nil
}

// rateKey carries a batch request's client identity from the rate limiter to chargeItems.
type rateKey struct{}

// chargeItems takes n more tokens from the batch's client bucket (at most the burst: a batch of more items than
// the burst still passes when the bucket is full), or answers 429 rate_limited with Retry-After.
func (s *Server) chargeItems(ctx context.Context, n int) error {
	key, ok := ctx.Value(rateKey{}).(string)
	if !ok || s.limiter == nil || n <= 0 {
		return nil
	}
	if ok, wait := s.limiter.allowN(key, n, time.Now()); !ok {
		return withRetryAfter(apiErr(protocol.ERateLimited, fmt.Sprintf(
			"too many requests from this client: a batch counts as one request per item (%d), retry later", n+1)), wait)
	}
	return nil
}
