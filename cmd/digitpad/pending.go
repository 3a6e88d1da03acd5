package main

import (
	"context"
	"errors"
	"io"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error { return errors.New("todo") }
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error { return errors.New("todo") }
func runFeedback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("todo")
}
func runQuantize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("todo")
}
