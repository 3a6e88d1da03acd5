//go:build !unix

// Package cputime measures the process's CPU time for tests and benchmarks that check resource budgets.
package cputime

import "time"

// Process is unavailable here: 0, and callers report wall time only.
func Process() time.Duration { return 0 }
