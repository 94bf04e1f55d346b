//go:build !unix

package bench

// raiseFDLimit does nothing here: this system has no descriptor limit to raise
// (Windows counts handles), so idleN stays idleWant.
func raiseFDLimit() {}
