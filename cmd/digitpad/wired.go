package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"digitpad/quantize"
	"digitpad/server"
	"digitpad/server/export"
	"digitpad/train"
	"digitpad/web"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", "train [--out DIR] [--epochs N] [--seed S] [--limit N] [--steps N] ...", stderr)
	var c train.Config
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	rep, err := train.Run(ctx, c, stderr)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "model %s (sha256 %s)\nval accuracy %.4f, MNIST test accuracy %.4f, best epoch %d, %.0f s\n",
		rep.ModelPath, rep.SHA256, rep.ValAccuracy, rep.TestAccuracy, rep.BestEpoch, rep.Seconds)
	return err
}

// runServe starts the server with the web pad embedded.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	p := server.NewProgram(stdout, stderr)
	p.Web = web.Handler(web.FS(), web.Options{WS: "/v1/ws"})
	args, sched, err := splitRetrainFlags(args)
	if err != nil {
		return err
	}
	if err := p.ParseFlags(args); err != nil {
		return err
	}
	if sched.every > 0 {
		go sched.run(ctx, p, stderr)
	}
	return p.Main(ctx)
}

func runFeedback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(stderr, "usage: digitpad feedback export --db DSN --out DIR")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return errors.New("feedback: want the subcommand 'export'")
	}
	return export.Main(ctx, args[1:], stdout, stderr)
}

func runQuantize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return quantize.Main(ctx, args, stdout, stderr)
}
