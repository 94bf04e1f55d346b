package sockmsg

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"
)

// systemDropOOB is the room recvmsg needs for the SO_RXQ_OVFL control message.
const systemDropOOB = 32

// countSystemDrops asks the system to report, with every datagram, how many datagrams
// it has dropped on this socket because its receive buffer was full (SO_RXQ_OVFL).
func countSystemDrops(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// systemDrops finds the SO_RXQ_OVFL count in the control messages of one recvmsg.
func systemDrops(oob []byte) (uint32, bool) {
	for len(oob) >= syscall.CmsgLen(0) {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		n := int(h.Len)
		if n < syscall.CmsgLen(0) || n > len(oob) {
			return 0, false
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SO_RXQ_OVFL && n >= syscall.CmsgLen(4) {
			return binary.NativeEndian.Uint32(oob[syscall.CmsgLen(0):]), true
		}
		oob = oob[min(len(oob), syscall.CmsgSpace(n-syscall.CmsgLen(0))):]
	}
	return 0, false
}

// connectedPeersSupported reports whether Config.ConnectedPeers takes effect here.
const connectedPeersSupported = true

// msgTrunc is the recvmsg flag that says the datagram was longer than the buffer.
const msgTrunc = syscall.MSG_TRUNC

// shareAddress lets several sockets bind the same address (SO_REUSEADDR and
// SO_REUSEPORT), so that a peer's connected socket can share the listener's port, and
// counts the system's drops as countSystemDrops does.
func shareAddress(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		for _, opt := range []int{syscall.SO_REUSEADDR, unixSOReusePort, syscall.SO_RXQ_OVFL} {
			if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 1); serr != nil {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// unixSOReusePort is SO_REUSEPORT, which package syscall does not name on Linux.
const unixSOReusePort = 0xf

// datagramPending reports whether a datagram (even an empty one) waits on the socket.
// It peeks rather than asking FIONREAD, which cannot tell an empty datagram from none.
func datagramPending(c syscall.RawConn) bool {
	var pending bool
	_ = c.Control(func(fd uintptr) {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT|syscall.MSG_TRUNC)
		pending = err == nil
	})
	return pending
}

// turnAway connects a peer's socket to its own address (the loopback address, when it is
// bound to all), from where no peer sends, so that the system stops giving it the peer's
// datagrams: they go to the listener's socket instead. It reports whether that worked.
func turnAway(c syscall.RawConn) bool {
	var serr error
	err := c.Control(func(fd uintptr) {
		var local syscall.Sockaddr
		if local, serr = syscall.Getsockname(int(fd)); serr != nil {
			return
		}
		switch a := local.(type) {
		case *syscall.SockaddrInet4:
			to := &syscall.SockaddrInet4{Port: a.Port, Addr: a.Addr}
			if netip.AddrFrom4(a.Addr).IsUnspecified() {
				to.Addr = [4]byte{127, 0, 0, 1}
			}
			serr = syscall.Connect(int(fd), to)
		case *syscall.SockaddrInet6:
			to := &syscall.SockaddrInet6{Port: a.Port, Addr: a.Addr, ZoneId: a.ZoneId}
			if netip.AddrFrom16(a.Addr).IsUnspecified() {
				to.Addr = netip.IPv6Loopback().As16()
			}
			serr = syscall.Connect(int(fd), to)
		default:
			serr = syscall.EAFNOSUPPORT
		}
	})
	return err == nil && serr == nil
}

// recvPending reads a datagram that waits on the socket, without waiting for one. n is
// the datagram's whole length, which may be more than len(buf).
func recvPending(c syscall.RawConn, buf []byte) (n int, from netip.AddrPort, ok bool) {
	_ = c.Control(func(fd uintptr) {
		var sa syscall.Sockaddr
		var err error
		n, sa, err = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT|syscall.MSG_TRUNC)
		if err != nil {
			return
		}
		switch a := sa.(type) {
		case *syscall.SockaddrInet4:
			from, ok = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), true
		case *syscall.SockaddrInet6:
			from, ok = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)), true
		}
	})
	return n, from, ok
}
