//go:build unix

package server

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// mapLossJournal maps the journal file shared, so that stores into it reach the page cache at once.
func mapLossJournal(path string) (*lossJournal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if fi.Size() != lossJournalBytes {
		if err := f.Truncate(lossJournalBytes); err != nil {
			return nil, err
		}
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, lossJournalBytes, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	// The mapping is page-aligned, so both counters are 8-byte aligned for atomic access.
	return &lossJournal{
		mem:     mem,
		handed:  (*atomic.Uint64)(unsafe.Pointer(&mem[0])),
		settled: (*atomic.Uint64)(unsafe.Pointer(&mem[8])),
		unmap:   func() error { return syscall.Munmap(mem) },
	}, nil
}
