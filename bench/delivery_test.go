package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// "A benchmark that sends into the void measures nothing": each scenario,
// through each peer, for a few messages, with every byte checked.

func TestDelivery(t *testing.T) {
	cases := []struct {
		name  string
		peers []peer
		sc    scenario
		o     opts
		n     int
	}{
		{"TCPPingPong64", tcpPeers(), pingPong, opts{size: 64}, 200},
		{"TCPStream64", tcpPeers(), stream, opts{size: 64}, 2000},
		{"TCPStreamBatch64", batchPeers(), streamBatch, opts{size: 64}, 3*batchSize + 7},
		{"TCPStream4K", tcpPeers(), stream, opts{size: 4 << 10}, 300},
		{"TCPStream64K", tcpPeers(), stream, opts{size: 64 << 10}, 50},
		{"UDPPingPong64", udpPeers(), pingPong, opts{size: 64}, 200},
		{"UDPStream64", udpPeers(), udpStream, opts{size: 64}, 100},
		{"EchoServer64x64", tcpPeers(), echoServer, opts{size: 64, clients: 64}, 64 * 5},
	}
	for _, c := range cases {
		for _, p := range c.peers {
			t.Run(c.name+"/"+p.name, func(t *testing.T) {
				o := c.o
				o.full = true
				r := c.sc(t, p, o)(c.n)
				require.NoError(t, r.err)
				if r.sent > 0 {
					// Datagrams one way: loss is reported, not failed, but
					// some must arrive and every one that did must be intact.
					assert.EqualValues(t, c.n, r.sent, "datagrams sent")
					assert.Positive(t, r.msgs, "datagrams delivered")
					assert.LessOrEqual(t, r.msgs, r.sent, "datagrams delivered")
					assert.EqualValues(t, r.msgs*int64(o.size), r.bytes, "bytes delivered")
					t.Logf("%d of %d datagrams arrived (%.1f%% loss)", r.msgs, r.sent, 100*float64(r.sent-r.msgs)/float64(r.sent))
					return
				}
				assert.EqualValues(t, c.n, r.msgs, "messages delivered")
				assert.EqualValues(t, c.n*o.size, r.bytes, "bytes delivered")
			})
		}
	}
}

func TestIdleConversations(t *testing.T) {
	for _, p := range idlePeers() {
		t.Run(p.name, func(t *testing.T) {
			r := idleConversations(t, p, 20)
			assert.Equal(t, 20, r.convs)
			assert.Positive(t, r.bytesPerConv)
		})
	}
}

func TestCheck(t *testing.T) {
	m := newMsg(64)
	stamp(m, 7)
	require.NoError(t, check(m, 7, 64, true))
	assert.Error(t, check(m, 8, 64, false), "wrong sequence number")
	assert.Error(t, check(m[:63], 7, 64, false), "short")
	m[40] ^= 1
	assert.Error(t, check(m, 7, 64, true), "damaged byte")
	assert.NoError(t, check(m, 7, 64, false), "without full, only length and sequence")
}

// dropConn loses message drop, as a broken peer would.
type dropConn struct {
	msgConn
	sent, drop int
}

func (d *dropConn) Send(msg []byte) error {
	d.sent++
	if d.sent-1 == d.drop {
		return nil
	}
	return d.msgConn.Send(msg)
}

func TestLostMessageIsCaught(t *testing.T) {
	lossy := rawTCP
	lossy.dial = func(addr string, size int) (msgConn, error) {
		c, err := rawTCP.dial(addr, size)
		return &dropConn{msgConn: c, drop: 5}, err
	}
	r := stream(t, lossy, opts{size: 64})(10)
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "message 5: sequence number 6")
	assert.EqualValues(t, 5, r.msgs)
}
