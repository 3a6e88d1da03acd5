package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"digitpad/registry"
	regopen "digitpad/registry/open"
	"digitpad/server"
	storeopen "digitpad/server/store/open"
	"digitpad/train/retrain"
)

// retrainSchedule is `digitpad serve --retrain-every DURATION [--retrain-promote]`: the single-machine default
// for continual learning (a Kubernetes CronJob running `digitpad retrain` replaces it with several replicas).
type retrainSchedule struct {
	every   time.Duration
	promote bool
}

// splitRetrainFlags takes the schedule's flags out of serve's arguments.
func splitRetrainFlags(args []string) (rest []string, s retrainSchedule, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		switch name {
		case "retrain-every":
			if !hasVal {
				if i+1 >= len(args) {
					return nil, s, errors.New("serve: --retrain-every needs a duration")
				}
				i++
				val = args[i]
			}
			if s.every, err = time.ParseDuration(val); err != nil || s.every < 0 {
				return nil, s, fmt.Errorf("serve: --retrain-every %q: want a duration such as 24h", val)
			}
		case "retrain-promote":
			s.promote = true
			if hasVal {
				if s.promote, err = strconv.ParseBool(val); err != nil {
					return nil, s, fmt.Errorf("serve: --retrain-promote=%q: %w", val, err)
				}
			}
		default:
			rest = append(rest, a)
		}
	}
	return rest, s, nil
}

// run retrains every s.every against the server's own store and registry until ctx ends. The serving process
// follows the registry alias, so a promotion reaches it like any other. A retrain another process holds the
// lock for is skipped.
func (s retrainSchedule) run(ctx context.Context, p *server.Program, stderr io.Writer) {
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "retrain-every")
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := s.once(ctx, p)
		switch {
		case errors.Is(err, retrain.ErrBusy):
			log.Info("retrain skipped: another retrain is running")
		case err != nil:
			log.Error("retrain failed", "err", err)
		default:
			log.Info("retrain done", "version", res.Version, "base", res.Base, "passed", res.Passed, "promoted", res.Promoted,
				"reasons", strings.Join(res.Reasons, "; "))
		}
	}
}

func (s retrainSchedule) once(ctx context.Context, p *server.Program) (*retrain.Result, error) {
	dsn := p.DB
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(p.DataDir, "digitpad.db")
	}
	loc := p.Registry
	if loc.Registry == "" {
		loc.Registry = filepath.Join(p.DataDir, "registry")
	}
	st, err := storeopen.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	reg, err := regopen.Open(ctx, loc, registry.Options{})
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	return retrain.Run(ctx, retrain.Config{Store: st, Registry: reg, Promote: s.promote, By: "digitpad serve --retrain-every",
		Command: "digitpad serve --retrain-every " + s.every.String(), CodeVersion: codeVersion()})
}
