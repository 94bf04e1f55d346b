//go:build unix

package bench

import (
	"fmt"
	"os"
	"syscall"
)

// raiseFDLimit raises the soft descriptor limit to the hard one and bounds
// idleN so that one process holds idleN conversations with room to spare.
func raiseFDLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	const spare = 256
	if int(lim.Cur)-spare < idleN {
		idleN = max(int(lim.Cur)-spare, 16)
		fmt.Fprintf(os.Stderr, "bench: descriptor limit %d: IdleConversations opens %d conversations, not %d\n", lim.Cur, idleN, idleWant)
	}
}
