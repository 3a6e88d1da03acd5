// Command train trains the digit model and writes model.onnx, model.json and report/*.png; it is the same as
// `digitpad train` (go run ./train/cmd/train -out assets).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"digitpad/train"
)

func main() {
	var c train.Config
	c.RegisterFlags(flag.CommandLine)
	flag.Parse()
	c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := train.Run(ctx, c, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
	fmt.Printf("model %s (sha256 %s)\nval accuracy %.4f, MNIST test accuracy %.4f, best epoch %d, %.0f s\n",
		rep.ModelPath, rep.SHA256, rep.ValAccuracy, rep.TestAccuracy, rep.BestEpoch, rep.Seconds)
}
