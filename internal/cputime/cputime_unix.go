//go:build unix

// Package cputime measures the process's CPU time for tests and benchmarks that check resource budgets: on a
// shared machine CPU time tracks the work done, where wall time also counts time spent descheduled.
package cputime

import (
	"syscall"
	"time"
)

// Process is the process's user+system CPU time so far; 0 when the system cannot tell.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
