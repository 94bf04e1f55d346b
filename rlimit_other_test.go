//go:build !unix

package sockmsg_test

import "testing"

// raiseFileLimit does nothing here: this system has no soft limit on open files to
// raise (Windows counts handles, not descriptors), so need is not checked.
func raiseFileLimit(t *testing.T, need uint64) {
	t.Helper()
}
