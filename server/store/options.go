package store

import "time"

// Options are the settings every backend's Open takes, as Option values.
type Options struct {
	// Now is the store's clock: receipt times of feedback, times of applied migrations, and any time-based rule
	// a backend adds (retention windows). Tests inject a fake clock here instead of sleeping.
	Now func() time.Time
}

// Option sets one of the Options.
type Option func(*Options)

// WithClock makes the store read the time from now instead of time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *Options) { o.Now = now }
}

// NewOptions applies opts over the defaults (Now: time.Now).
func NewOptions(opts ...Option) Options {
	o := Options{Now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
