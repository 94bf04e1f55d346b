package sockmsg

import (
	"net"
	"net/netip"
	"testing"
	"time"

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

// peerOf returns the *peer behind an accepted UDP conversation.
func peerOf(t *testing.T, c *Conversation) *peer {
	t.Helper()
	p, ok := c.conn.(*peer)
	require.True(t, ok, "%T", c.conn)
	return p
}

// With ConnectedPeers each peer gets a socket of its own, whatever the listener's
// address family; the conversation then reads from it.
func TestConnectedPeersHaveSockets(t *testing.T) {
	if !connectedPeersSupported {
		t.Skip("ConnectedPeers is ignored on this system")
	}
	cases := []struct{ network, listen, dial string }{
		{"udp", "127.0.0.1:0", "127.0.0.1"},
		{"udp4", "0.0.0.0:0", "127.0.0.1"},
		{"udp", ":0", "127.0.0.1"}, // dual-stack: IPv4 peers have IPv4-mapped keys
		{"udp6", "[::1]:0", "::1"},
	}
	for _, tc := range cases {
		t.Run(tc.network+" "+tc.listen, func(t *testing.T) {
			_, ln, client, server := udpPair(t, &Config{ConnectedPeers: true}, tc.network, tc.listen, tc.dial)
			p := peerOf(t, server)
			require.NotNil(t, p.conn, "the peer has a socket of its own")
			for _, m := range []string{"second", "third"} {
				require.NoError(t, client.SendString(m))
				got, err := server.RecvString()
				require.NoError(t, err)
				assert.Equal(t, m, got)
				require.NoError(t, server.SendString("re: "+m))
				back, err := client.RecvString()
				require.NoError(t, err)
				assert.Equal(t, "re: "+m, back)
			}
			assert.Zero(t, p.l.connectFailures.Load())
			l := ln.ln.(*packetListener)
			l.mu.Lock()
			assert.Len(t, l.peers, 1, "no datagram went to the listener as from a new peer")
			l.mu.Unlock()
		})
	}
}

// A peer whose socket cannot be opened stays on the listener's queue.
func TestConnectedPeersFallBackToTheQueue(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	s, err := (&Config{ConnectedPeers: true}).resolve("udp")
	require.NoError(t, err)
	l := newPacketListener(pc, s)
	l.connected = true
	l.network = "udp-no-such-network" // every connect fails
	go l.read()
	ln := &Listener{ln: l, settings: s}
	defer ln.Close()

	client, err := Dial("udp", pc.LocalAddr().String())
	require.NoError(t, err)
	defer client.Close()
	require.NoError(t, client.SendString("hello"))
	server, err := ln.Accept()
	require.NoError(t, err)
	defer server.Close()
	assert.Nil(t, peerOf(t, server).conn)
	assert.Equal(t, uint64(1), l.connectFailures.Load())
	for _, m := range []string{"hello", "more"} {
		if m != "hello" {
			require.NoError(t, client.SendString(m))
		}
		got, err := server.RecvString()
		require.NoError(t, err)
		assert.Equal(t, m, got)
		require.NoError(t, server.SendString(m))
		back, err := client.RecvString()
		require.NoError(t, err)
		assert.Equal(t, m, back)
	}
}

// A connected peer that ends with datagrams waiting on its socket (its idle timeout
// firing as they arrive, say) loses none of them: Read delivers those that were waiting
// before it reports the end, and any that come later start a new conversation.
func TestConnectedPeerEndingLosesNothing(t *testing.T) {
	if !connectedPeersSupported {
		t.Skip("ConnectedPeers is ignored on this system")
	}
	for _, tc := range []struct{ network, listen, dial string }{
		{"udp", "127.0.0.1:0", "127.0.0.1"},
		{"udp", ":0", "127.0.0.1"}, // dual-stack: the peer's socket is IPv6, the peer IPv4
	} {
		t.Run(tc.listen, func(t *testing.T) {
			ctx, ln, client, server := udpPair(t, &Config{ConnectedPeers: true}, tc.network, tc.listen, tc.dial)
			p := peerOf(t, server)
			require.NotNil(t, p.conn)

			want := []string{"a", "b", "c"}
			for _, m := range want {
				require.NoError(t, client.SendString(m))
			}
			require.Eventually(t, func() bool { return datagramPending(p.raw) }, 10*time.Second, time.Millisecond)
			require.True(t, p.end(&endReason{err: ErrIdleTimeout, drain: true, hint: "test"}))

			var delivered []string
			for {
				m, err := server.RecvString()
				if err != nil {
					require.ErrorIs(t, err, ErrIdleTimeout)
					break
				}
				delivered = append(delivered, m)
			}
			assert.NotEmpty(t, delivered, "what waited on the socket is delivered")
			if len(delivered) < len(want) {
				next, err := ln.AcceptContext(ctx)
				require.NoError(t, err, "the rest start a new conversation")
				defer next.Close()
				for len(delivered) < len(want) {
					m, err := next.RecvContext(ctx)
					require.NoError(t, err)
					delivered = append(delivered, string(m))
				}
			}
			assert.Equal(t, want, delivered)
		})
	}
}
