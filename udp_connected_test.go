package sockmsg_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The UDP behaviour tests (udp_test.go) run over ConnectedPeers too, as the
// udp-connected transport; the tests here are about what only ConnectedPeers does.

// Datagrams sent before the server accepts reach the listener, the peer's socket, or
// both: none is lost.
func TestConnectedPeersEarlyDatagramsAreDelivered(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	ln := listen(t, ctx, udpConnected, nil)
	client := dial(t, ctx, nil, ln)
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprint(i))
		require.NoError(t, client.SendString(want[i]))
	}
	server, err := ln.AcceptContext(ctx)
	require.NoError(t, err)
	defer server.Close()
	assert.ElementsMatch(t, want, recvStrings(t, server, len(want)))
	require.NoError(t, client.SendString("after"))
	assert.Equal(t, []string{"after"}, recvStrings(t, server, 1))
}

// The client goes away: the system refuses the server's datagrams, and the server's
// conversation does not hear of it, as without ConnectedPeers.
func TestConnectedPeersIgnoreRefusals(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	server, client := pair(t, ctx, udpConnected, nil)
	require.NoError(t, client.Close())
	for range 3 {
		require.NoError(t, server.SendString("anyone?"))
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := server.RecvContext(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NoError(t, server.SendString("still here"))
}

func TestConnectedPeersConfig(t *testing.T) {
	cfg := &sockmsg.Config{ConnectedPeers: true}
	addr := localAddress(t, "unixgram")
	_, err := cfg.Listen(context.Background(), "unixgram", addr)
	require.ErrorIs(t, err, sockmsg.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "ConnectedPeers")
	_, err = os.Stat(addr)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing was opened")
	_, err = cfg.Dial(context.Background(), "unixgram", addr)
	assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig)

	// Streams ignore it, as they ignore the other UDP fields.
	ctx := testTimeout(t, 20*time.Second)
	server, client := pair(t, ctx, streamTransports[0], cfg)
	require.NoError(t, client.SendString("stream"))
	assert.Equal(t, []string{"stream"}, recvStrings(t, server, 1))

	// On udp, Dial ignores it; the Config is not changed.
	want := *cfg
	for _, network := range []string{"udp", "udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			if network == "udp6" {
				if c, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
					t.Skip("no IPv6 loopback")
				} else {
					_ = c.Close()
				}
			}
			server, client := pair(t, ctx, transport{name: network, network: network}, cfg)
			require.NoError(t, server.SendString("ok"))
			assert.Equal(t, []string{"ok"}, recvStrings(t, client, 1))
			require.NoError(t, client.SendString("ok too"))
			assert.Equal(t, []string{"ok too"}, recvStrings(t, server, 1))
		})
	}
	assert.Equal(t, want, *cfg)
}
