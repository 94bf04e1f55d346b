package bench

import (
	"net"
	"testing"

	"github.com/pion/transport/v3/udp"
)

// pionPeer is pion's connection-oriented UDP listener: one socket,
// demultiplexed per remote address into net.Conns by Accept. Clients are plain
// connected UDP sockets.
var pionPeer = peer{
	name: "pion",
	udp:  true,
	serve: func(tb testing.TB, size int, handle func(msgConn)) string {
		var lc udp.ListenConfig
		ln, err := lc.Listen("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		t := newTracker(tb, ln.Close)
		acceptLoop(t, ln.Accept, func(c net.Conn) msgConn { return &netConn{c: c, size: datagramBuf(size)} }, handle)
		return ln.Addr().String()
	},
	dial: dialUDP,
}
