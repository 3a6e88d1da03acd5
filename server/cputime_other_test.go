//go:build !unix

package server_test

import "time"

// cpuTime is unavailable here; benchmarks report 0 CPU.
func cpuTime() time.Duration { return 0 }
