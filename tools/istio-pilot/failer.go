package main

import (
	"fmt"
	"os"
	"sync"
)

// failer is the test.Failer pilot's fake discovery server wants. Its Fatal comes from pilot's own setup
// (e.g. "failed to create config"): caused by the input, so it exits 2 with one line, from any goroutine.
// Cleanup functions (server shutdown, stop channels) are never run: the process exits when the output is
// written; only temporary directories are removed.
type failer struct {
	mu      sync.Mutex
	tmpDirs []string
}

func newFailer() *failer { return &failer{} }

func (f *failer) Fail()                             { fail(2, "pilot: failed") }
func (f *failer) FailNow()                          { fail(2, "pilot: failed") }
func (f *failer) Fatal(args ...any)                 { fail(2, "pilot: "+fmt.Sprint(args...)) }
func (f *failer) Fatalf(format string, args ...any) { fail(2, "pilot: "+fmt.Sprintf(format, args...)) }
func (f *failer) Skip(args ...any)                  { fail(2, "pilot: skipped: "+fmt.Sprint(args...)) }
func (f *failer) Log(args ...any)                   {}
func (f *failer) Logf(format string, args ...any)   {}
func (f *failer) Helper()                           {}

func (f *failer) TempDir() string {
	d, err := os.MkdirTemp("", "istio-pilot-")
	if err != nil {
		fail(1, err.Error())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tmpDirs = append(f.tmpDirs, d)
	return d
}

func (f *failer) Cleanup(func()) {}

// removeTempDirs is called before a normal exit.
func (f *failer) removeTempDirs() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.tmpDirs {
		_ = os.RemoveAll(d)
	}
}
