package sockmsg

import (
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A flood of full-size datagrams from many addresses, none of them read, stops at the
// listener's byte bound, and everything past it is counted as dropped.
func TestUDPQueuedBytesAreBounded(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	s, err := (&Config{Backlog: 64, PeerQueue: 64}).resolve("udp")
	require.NoError(t, err)
	l := newPacketListener(pc, s)
	go l.read() // nothing is sent to the socket: route is driven from here alone
	defer l.Close()

	big := make([]byte, 60000)
	const senders, each = 64, 64 // 64 × 64 × 60 KB = 234 MiB offered
	for i := range senders {
		key := peerKey{ip: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(1000+i))}
		for range each {
			l.route(key, big)
		}
	}
	assert.LessOrEqual(t, l.queued.Load(), int64(maxQueuedBytes))
	var held, dropped uint64
	l.mu.Lock()
	for _, p := range l.peers {
		held += uint64(len(p.queue))
		dropped += p.drops.Load()
	}
	l.mu.Unlock()
	assert.Equal(t, uint64(senders*each), held+dropped+l.drops.Load(), "every datagram is held or counted")
	assert.Greater(t, dropped, uint64(0))
	assert.LessOrEqual(t, held*uint64(len(big)), uint64(maxQueuedBytes))
	assert.Greater(t, l.queued.Load(), int64(maxQueuedBytes-2*(l.limit+1)), "the bound is used, not undercut")
}
