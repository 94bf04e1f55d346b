//go:build unix

package sockmsg_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// raiseFileLimit raises the soft limit on open files to the hard limit, as a server
// holding thousands of conversations needs, and fails the test if that is still below need.
func raiseFileLimit(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	}
	// Rlimit's fields are int64 on some systems (FreeBSD): compare as uint64.
	require.GreaterOrEqual(t, uint64(lim.Cur), need, "open-file limit too low for this suite (ulimit -n)")
}
