//go:build !linux

package sockmsg

import (
	"net/netip"
	"syscall"
)

// systemDropOOB is 0 where the system does not report its drops.
const systemDropOOB = 0

// countSystemDrops does nothing where the system cannot report its drops.
func countSystemDrops(network, address string, c syscall.RawConn) error { return nil }

// systemDrops reports nothing where the system cannot report its drops.
func systemDrops(oob []byte) (uint32, bool) { return 0, false }

// connectedPeersSupported is false: Config.ConnectedPeers is ignored here.
const connectedPeersSupported = false

const msgTrunc = 0

func shareAddress(network, address string, c syscall.RawConn) error { return nil }

func datagramPending(c syscall.RawConn) bool { return false }

func turnAway(c syscall.RawConn) bool { return false }

func recvPending(c syscall.RawConn, buf []byte) (int, netip.AddrPort, bool) {
	return 0, netip.AddrPort{}, false
}
