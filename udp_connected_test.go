package sockmsg_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// udpTransport is the network of the ConnectedPeers tests.
var udpTransport = packetTransports[0]

// connected is a Config with ConnectedPeers and the given idle timeout (0: default).
func connected(idle time.Duration) *sockmsg.Config {
	return &sockmsg.Config{ConnectedPeers: true, IdleTimeout: idle}
}

func TestConnectedPeersRoundTrip(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	server, client := pair(t, ctx, udpTransport, connected(0))
	assert.Equal(t, client.LocalAddr().String(), server.RemoteAddr().String())
	assert.Equal(t, client.RemoteAddr().String(), server.LocalAddr().String())
	for _, m := range []string{"merhaba", "", "line\nbreaks\r\n", "\x00\xff binary", strings.Repeat("d", 60000)} {
		require.NoError(t, client.SendString(m))
		got, err := server.RecvString()
		require.NoError(t, err)
		assert.Equal(t, m, got)
		require.NoError(t, server.SendString(m))
		back, err := client.RecvString()
		require.NoError(t, err)
		assert.Equal(t, m, back)
	}
	assert.Equal(t, sockmsg.ConversationStats{MessagesSent: 5, BytesSent: 60029, MessagesReceived: 6, BytesReceived: 60034}, server.Stats())
}

// Datagrams sent before the server accepts reach the listener, the peer's socket, or
// both: none is lost.
func TestConnectedPeersEarlyDatagramsAreDelivered(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	ln := listen(t, ctx, udpTransport, connected(0))
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

func TestConnectedPeersCloseRemovesThatPeerOnly(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	ln := listen(t, ctx, udpTransport, connected(0))
	a, b := dial(t, ctx, nil, ln), dial(t, ctx, nil, ln)
	require.NoError(t, a.SendString("a"))
	sa := accept(t, ctx, ln, "a")
	require.NoError(t, b.SendString("b"))
	sb := accept(t, ctx, ln, "b")

	require.NoError(t, sa.Close())
	_, err := sa.Recv()
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.ErrorIs(t, sa.SendString("x"), net.ErrClosed)

	require.NoError(t, b.SendString("b still here"))
	assert.Equal(t, []string{"b still here"}, recvStrings(t, sb, 1))
	require.NoError(t, sb.SendString("yes"))
	assert.Equal(t, []string{"yes"}, recvStrings(t, b, 1))

	// The closed conversation's socket is gone: a's next datagram reaches the listener.
	require.NoError(t, a.SendString("a again"))
	sa2 := accept(t, ctx, ln, "a again")
	assert.Equal(t, a.LocalAddr().String(), sa2.RemoteAddr().String())
	require.NoError(t, sa2.SendString("hello again"))
	assert.Equal(t, []string{"hello again"}, recvStrings(t, a, 1))
	require.NoError(t, a.SendString("and on"))
	assert.Equal(t, []string{"and on"}, recvStrings(t, sa2, 1))
	assert.Equal(t, sockmsg.ListenerStats{Accepted: 3, Open: 2}, ln.Stats())
}

func TestConnectedPeersListenerCloseEndsEverything(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	ln := listen(t, ctx, udpTransport, connected(0))
	var servers []*sockmsg.Conversation
	for i := range 3 {
		c := dial(t, ctx, nil, ln)
		require.NoError(t, c.SendString(fmt.Sprint(i)))
		servers = append(servers, accept(t, ctx, ln, fmt.Sprint(i)))
	}
	errs := make(chan error, len(servers)+1)
	for _, s := range servers {
		go func() {
			_, err := s.Recv()
			errs <- err
		}()
	}
	go func() {
		_, err := ln.Accept()
		errs <- err
	}()
	require.NoError(t, ln.Close())
	for range len(servers) + 1 {
		err := <-errs
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.Contains(t, err.Error(), "listener was closed")
	}
	for _, s := range servers {
		err := s.SendString("x")
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.Contains(t, err.Error(), "listener was closed")
		assert.NoError(t, s.Close())
	}
	assert.ErrorIs(t, ln.Close(), net.ErrClosed, "second Close")
	assert.Equal(t, int64(0), ln.Stats().Open)
}

func TestConnectedPeersOversizeDatagram(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	cfg := &sockmsg.Config{ConnectedPeers: true, MaxMessageSize: 10}
	ln := listen(t, ctx, udpTransport, cfg)
	client := dial(t, ctx, nil, ln)
	require.NoError(t, client.SendString("hello"))
	server := accept(t, ctx, ln, "hello")
	for range 2 { // the second time, surely from the peer's own socket
		require.NoError(t, client.SendString("01234567890"))
		require.NoError(t, client.SendString("0123456789"))
		_, err := server.Recv()
		require.Error(t, err)
		assert.ErrorIs(t, err, sockmsg.ErrMessageTooLarge)
		var se *sockmsg.MessageSizeError
		require.ErrorAs(t, err, &se)
		assert.True(t, se.Datagram)
		assert.Equal(t, 10, se.Max)
		assert.Contains(t, err.Error(), "conversation goes on")
		got, err := server.RecvString()
		require.NoError(t, err, "an oversize datagram does not end the conversation")
		assert.Equal(t, "0123456789", got, "nor is it delivered cut short")
	}
}

func TestConnectedPeersIdleTimeout(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	ln := listen(t, ctx, udpTransport, connected(100*time.Millisecond))
	client := dial(t, ctx, nil, ln)
	require.NoError(t, client.SendString("hello"))
	server := accept(t, ctx, ln, "hello")

	_, err := server.Recv()
	require.Error(t, err)
	assert.ErrorIs(t, err, sockmsg.ErrIdleTimeout)
	assert.NotErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.NotErrorIs(t, err, io.EOF)
	assert.Contains(t, err.Error(), "next datagram starts a new conversation")
	assert.ErrorIs(t, server.SendString("too late"), sockmsg.ErrIdleTimeout)

	// The peer speaks again: a new conversation, on the listener again.
	require.NoError(t, client.SendString("back"))
	next := accept(t, ctx, ln, "back")
	require.NoError(t, next.SendString("welcome back"))
	assert.Equal(t, []string{"welcome back"}, recvStrings(t, client, 1))

	// A datagram waiting on the peer's socket, unread, keeps the conversation alive;
	// it is still delivered, and the silence after it ends the conversation.
	require.NoError(t, client.SendString("unread"))
	got, err := next.RecvString()
	require.NoError(t, err)
	assert.Equal(t, "unread", got)
	_, err = next.Recv()
	assert.ErrorIs(t, err, sockmsg.ErrIdleTimeout)
}

func TestConnectedPeersTrafficKeepsConversationAlive(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	server, client := pair(t, ctx, udpTransport, connected(400*time.Millisecond))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := range 10 {
		<-tick.C
		require.NoError(t, client.SendString(fmt.Sprint(i)))
		got, err := server.RecvString()
		require.NoError(t, err, "message %d", i)
		assert.Equal(t, fmt.Sprint(i), got)
	}
}

func TestConnectedPeersDeadlinesAndContexts(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	server, client := pair(t, ctx, udpTransport, connected(0))

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err := server.RecvContext(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	_, err = recvCancelled(ctx, server)
	assert.ErrorIs(t, err, context.Canceled)

	require.NoError(t, server.SetReadDeadline(time.Now().Add(30*time.Millisecond)))
	_, err = server.Recv()
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	require.NoError(t, server.SetDeadline(time.Time{}))

	require.NoError(t, client.SendString("still usable"))
	got, err := server.RecvContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "still usable", string(got))
	require.NoError(t, server.SendContext(ctx, []byte("yes")))
	assert.Equal(t, []string{"yes"}, recvStrings(t, client, 1))
}

// The client goes away: the system refuses the server's datagrams, and the server's
// conversation does not hear of it, as without ConnectedPeers.
func TestConnectedPeersIgnoreRefusals(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	server, client := pair(t, ctx, udpTransport, connected(0))
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
