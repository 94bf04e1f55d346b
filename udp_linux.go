package sockmsg

import (
	"encoding/binary"
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
