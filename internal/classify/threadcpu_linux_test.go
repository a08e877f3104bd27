package classify

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPU is the calling OS thread's CPU time (CLOCK_THREAD_CPUTIME_ID):
// on a loaded machine it counts the work of an operation without the
// time spent waiting for a core. ok is false when the clock is missing.
func threadCPU() (d time.Duration, ok bool) {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
