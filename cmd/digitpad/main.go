// Command digitpad recognises handwritten postal codes: predict, eval, bench, train, serve and more.
//
// Every subcommand prints its flags with --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: run parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"predict":   {"recognise postal codes in PNG/JPEG files, folders of them, or MNIST idx3 files (JSON lines)", runPredict},
		"eval":      {"accuracy and confusion matrix on MNIST test or a folder with labels.csv", runEval},
		"bench":     {"model inference latency and throughput for a batch size", runBench},
		"train":     {"train the digit CNN on MNIST and export ONNX with a model card and report", runTrain},
		"serve":     {"HTTP/websocket server: prediction API, web pad, feedback store", runServe},
		"feedback":  {"feedback tools: 'feedback export --db DSN --out DIR' writes a labelled training set", runFeedback},
		"quantize":  {"write an int8 or fp16 variant of a model", runQuantize},
		"retrain":   {"learn from clerks' corrections: fine-tune, gate, register a candidate, --promote when it passes", runRetrain},
		"calibrate": {"fit the temperature and choose the confirm threshold on validation data; writes them into the model card", runCalibrate},
		"registry":  {"model registry: list, show, register, promote, rollback, history, tag, delete", runRegistry},
		"profile":   {"compute a model's monitoring reference profile and write it into its model card", runProfile},
		"migrate":   {"apply the feedback store's pending schema migrations and exit (the Kubernetes migration Job)", runMigrate},
		"enroll":    {"one-time code to enrol a pad or kiosk; 'enroll list', 'enroll revoke ID'", runEnroll},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errReported) && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "digitpad:", err)
		}
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(1)
	}
}

// errReported means the command already told the user what failed (e.g. per-file error lines); exit non-zero.
var errReported = errors.New("some inputs failed")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return flag.ErrHelp
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: digitpad COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'digitpad COMMAND --help' for a command's flags.")
}

// newFlags makes a FlagSet whose --help explains the command and each flag.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: digitpad %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
