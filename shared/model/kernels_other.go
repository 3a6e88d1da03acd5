//go:build !amd64 || purego

package model

// availableKernels lists the kernels this build can run: only the portable one.
func availableKernels() []kernel { return []kernel{genericKernel} }
