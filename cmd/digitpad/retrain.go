package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"digitpad/registry"
	regopen "digitpad/registry/open"
	storeopen "digitpad/server/store/open"
	"digitpad/train/retrain"
)

// runRetrain is `digitpad retrain`: a thin shell over train/retrain.Run.
func runRetrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("retrain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c retrain.Config
	data := fs.String("data", "data", "data folder: the defaults of --db and --registry, as for `digitpad serve`")
	db := fs.String("db", "", "feedback store: sqlite:FILE | postgres://... (default sqlite:DATA/digitpad.db)")
	reg := fs.String("registry", "", "model registry: a directory (default DATA/registry) or a PostgreSQL DSN (then --registry-blobs); env "+regopen.EnvRegistry)
	blobs := fs.String("registry-blobs", "", "S3 URL for the files of a PostgreSQL registry; env "+regopen.EnvBlobs)
	base := fs.String("base", "models:/digitpad@production", "version to improve: models:/NAME@ALIAS or models:/NAME/VERSION")
	fs.BoolVar(&c.Promote, "promote", false, "move production to the candidate when the gate passed (compare-and-set with the base)")
	fs.BoolVar(&c.Full, "full", false, "retrain from scratch instead of fine-tuning the base")
	asJSON := fs.Bool("json", false, "print the outcome as one JSON line last")
	fs.StringVar(&c.MNIST, "mnist", "", "MNIST idx directory (default $DIGITPAD_MNIST or the GoMNIST module)")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed")
	fs.IntVar(&c.Steps, "steps", 0, "optimiser steps (0: 800 fine-tuning, 6000 full)")
	fs.IntVar(&c.Workers, "workers", 2, "data-parallel workers")
	fs.Float64Var(&c.LR, "lr", 0, "peak learning rate (0: 1.5e-4 fine-tuning, 3e-3 full)")
	fs.Float64Var(&c.HoldoutFrac, "holdout", 0.25, "share of the new records (the newest) sealed as holdout")
	fs.IntVar(&c.CorrectionWeight, "correction-weight", 4, "times a corrected digit is repeated in the training mix")
	fs.IntVar(&c.Screen.CapPerClient, "cap-per-client", 5000, "most digits one client may contribute (its newest)")
	fs.IntVar(&c.CalibrationCodes, "calibration-codes", retrain.DefaultCalibrationCodes, "validation codes the candidate's confirm policies are fitted on, read as served (pair and second readers): this many from their images and as many from their strokes (`digitpad calibrate` fits the shipped cards on 10,000 each)")
	fs.IntVar(&c.CalibrationHoldout, "calibration-holdout", retrain.DefaultCalibrationHoldout, "held-out validation codes of each kind the fitted policies are reported on in the card (negative: none)")
	fs.Float64Var(&c.SecondWeight, "second-weight", retrain.DefaultSecondWeight, "the second reader's share of the averaged probabilities in the candidate's reading (recorded in its card; the shipped cards' 0.5 lets the frozen second reader outvote what the retrain learnt)")
	fs.Float64Var(&c.Gate.Margin, "margin", 0, "also pass a holdout gain of at least this fraction without significance (0: significance required)")
	fs.StringVar(&c.By, "by", "digitpad retrain", "who moves the aliases (registry history)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("retrain: unexpected arguments %q", fs.Args())
	}
	if *db == "" {
		*db = "sqlite:" + filepath.Join(*data, "digitpad.db")
	}
	loc := regopen.Location{Registry: *reg, Blobs: *blobs}
	if loc.Registry == "" {
		loc.Registry = envOr(regopen.EnvRegistry, filepath.Join(*data, "registry"))
	}
	if loc.Blobs == "" {
		loc.Blobs = envOr(regopen.EnvBlobs, "")
	}
	ref, err := registry.ParseURI(*base)
	if err != nil {
		return err
	}
	c.Base = ref
	st, err := storeopen.Open(ctx, *db)
	if err != nil {
		return fmt.Errorf("retrain: %w", err)
	}
	defer st.Close()
	r, err := regopen.Open(ctx, loc, registry.Options{})
	if err != nil {
		return fmt.Errorf("retrain: %w", err)
	}
	defer r.Close()
	c.Store, c.Registry = st, r
	c.Command = "digitpad retrain " + strings.Join(args, " ")
	c.CodeVersion = codeVersion()
	c.Progress = stderr
	c.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	if !*asJSON {
		c.Progress = stdout
	}
	res, err := retrain.Run(ctx, c)
	if errors.Is(err, retrain.ErrBusy) {
		return err
	}
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.Marshal(struct {
			Version  int                `json:"version"`
			Passed   bool               `json:"passed"`
			Promoted bool               `json:"promoted"`
			Reasons  []string           `json:"reasons"`
			Metrics  map[string]float64 `json:"metrics"`
			Base     int                `json:"base"`
			Clients  any                `json:"clients,omitempty"`
		}{res.Version, res.Passed, res.Promoted, res.Reasons, res.Metrics, res.Base, res.Clients})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	fmt.Fprintf(stdout, "version %d (base %d): gate passed=%v promoted=%v\n", res.Version, res.Base, res.Passed, res.Promoted)
	for _, r := range res.Reasons {
		fmt.Fprintln(stdout, "  -", r)
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
