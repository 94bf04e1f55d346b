package sockmsg_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// packetTransports are the datagram networks; the UDP behaviour tests run over each.
var packetTransports = []transport{
	{name: "udp", network: "udp"},
	{name: "unixgram", network: "unixgram"},
	udpConnected,
}

// udpConnected is udp with Config.ConnectedPeers.
var udpConnected = transport{name: "udp-connected", network: "udp", connected: true}

// eachPacket runs f as a parallel subtest over every datagram transport.
func eachPacket(t *testing.T, f func(t *testing.T, ctx context.Context, tr transport)) {
	each(t, packetTransports, f)
}

// eachTransport runs f as a parallel subtest over every transport, stream or datagram,
// for the behaviour that both kinds share.
func eachTransport(t *testing.T, f func(t *testing.T, ctx context.Context, tr transport)) {
	each(t, append(append([]transport(nil), streamTransports...), packetTransports...), f)
}

// dial dials the listener and closes the client when the test ends.
func dial(t testing.TB, ctx context.Context, cfg *sockmsg.Config, ln *sockmsg.Listener) *sockmsg.Conversation {
	t.Helper()
	c, err := cfg.Dial(ctx, ln.Addr().Network(), ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// accept accepts the next peer and checks its first message.
func accept(t testing.TB, ctx context.Context, ln *sockmsg.Listener, first string) *sockmsg.Conversation {
	t.Helper()
	c, err := ln.AcceptContext(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	got, err := c.RecvString()
	require.NoError(t, err)
	require.Equal(t, first, got)
	return c
}

// recvStrings receives n messages.
func recvStrings(t testing.TB, c *sockmsg.Conversation, n int) []string {
	t.Helper()
	var got []string
	for range n {
		m, err := c.RecvString()
		require.NoError(t, err)
		got = append(got, m)
	}
	return got
}

func TestDatagramRoundTrip(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, nil)
		for _, c := range []*sockmsg.Conversation{server, client} {
			assert.Equal(t, sockmsg.Datagram, c.Framing())
			assert.Equal(t, tr.network, c.Network())
			assert.Equal(t, 65507, c.MaxMessageSize())
		}
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
	})
}

func TestDatagramFramingAndBoundsRefused(t *testing.T) {
	cases := []struct {
		name string
		cfg  sockmsg.Config
		want string
	}{
		{"lines", sockmsg.Config{Framing: sockmsg.Lines}, "already one message"},
		{"length", sockmsg.Config{Framing: sockmsg.LengthPrefixed}, "already one message"},
		{"raw", sockmsg.Config{Framing: sockmsg.Raw}, "already one message"},
		{"negative backlog", sockmsg.Config{Backlog: -1}, "Backlog"},
		{"negative queue", sockmsg.Config{PeerQueue: -1}, "PeerQueue"},
	}
	for _, tc := range cases {
		for _, tr := range packetTransports {
			t.Run(tc.name+"/"+tr.name, func(t *testing.T) {
				_, err := tc.cfg.Listen(context.Background(), tr.network, localAddress(t, tr.network))
				require.Error(t, err)
				assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig)
				assert.Contains(t, err.Error(), tc.want)
				_, err = tc.cfg.Dial(context.Background(), tr.network, "127.0.0.1:1")
				assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig)
			})
		}
	}
}

func TestUDPConfigIsNotChanged(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	cfg := &sockmsg.Config{PeerQueue: 3}
	want := *cfg
	server, client := pair(t, ctx, packetTransports[0], cfg)
	require.NoError(t, client.SendString("x"))
	_, err := server.Recv()
	require.NoError(t, err)
	assert.Equal(t, want, *cfg)
}

// udpTransports are the two ways a UDP listener can hand datagrams to its
// conversations: through their queues, and through sockets of their own.
var udpTransports = []transport{packetTransports[0], udpConnected}

func TestUDPManyPeersAtOnce(t *testing.T) {
	for _, tr := range udpTransports {
		t.Run(tr.name, func(t *testing.T) { manyPeersAtOnce(t, tr) })
	}
}

func manyPeersAtOnce(t *testing.T, tr transport) {
	const peers, each = 50, 5
	ctx := testTimeout(t, 20*time.Second)
	ln := listen(t, ctx, tr, nil)

	// The server echoes every message on the conversation it came in on.
	var servers sync.WaitGroup
	servers.Go(func() {
		for range peers {
			c, err := ln.AcceptContext(ctx)
			if !assert.NoError(t, err) {
				return
			}
			servers.Go(func() {
				defer c.Close()
				for range each + 1 {
					m, err := c.Recv()
					if !assert.NoError(t, err) {
						return
					}
					assert.NoError(t, c.Send(m))
				}
			})
		}
	})

	var clients sync.WaitGroup
	for i := range peers {
		clients.Go(func() {
			c, err := sockmsg.DialContext(ctx, "udp", ln.Addr().String())
			if !assert.NoError(t, err) {
				return
			}
			defer c.Close()
			for j := range each + 1 {
				msg := fmt.Sprintf("peer %d message %d", i, j)
				assert.NoError(t, c.SendString(msg))
				got, err := c.RecvString()
				assert.NoError(t, err)
				assert.Equal(t, msg, got, "each peer hears only its own conversation")
			}
		})
	}
	clients.Wait()
	servers.Wait()
	st := ln.Stats()
	assert.Equal(t, uint64(peers), st.Accepted)
	assert.Zero(t, st.Open)
	assert.Zero(t, st.Dropped)
}

func TestUDPBacklogOverflowIsCounted(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		ln := listen(t, ctx, tr, &sockmsg.Config{Backlog: 2})
		var clients []*sockmsg.Conversation
		for i := range 5 {
			c := dial(t, ctx, nil, ln)
			require.NoError(t, c.SendString(fmt.Sprint("hello ", i)))
			clients = append(clients, c)
		}
		// Nothing is accepted, so the counter can only climb to its final value: the
		// three peers that found the backlog full. (Accepting first would make room.)
		require.Eventually(t, func() bool { return ln.Stats().Dropped == 3 }, 10*time.Second, time.Millisecond)

		accept(t, ctx, ln, "hello 0")
		accept(t, ctx, ln, "hello 1")
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := ln.AcceptContext(short)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the dropped peers were never queued")

		// A dropped peer is not lost for good: its next datagram finds room.
		require.NoError(t, clients[4].SendString("again"))
		accept(t, ctx, ln, "again")
		assert.Equal(t, sockmsg.ListenerStats{Accepted: 3, Open: 3, Dropped: 3}, ln.Stats())
	})
}

func TestUDPPeerQueueOverflowIsCounted(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		if tr.connected {
			t.Skip("a connected peer's datagrams wait in its socket's buffer, which PeerQueue does not bound")
		}
		ln := listen(t, ctx, tr, &sockmsg.Config{PeerQueue: 4})
		client := dial(t, ctx, nil, ln)
		require.NoError(t, client.SendString("hello"))
		server := accept(t, ctx, ln, "hello")
		for i := range 10 {
			require.NoError(t, client.SendString(fmt.Sprint(i)))
		}
		// Another peer's datagram, once accepted, shows the reader is past all ten.
		witness := dial(t, ctx, nil, ln)
		require.NoError(t, witness.SendString("witness"))
		accept(t, ctx, ln, "witness")

		assert.Equal(t, uint64(6), server.Stats().Dropped)
		assert.Equal(t, []string{"0", "1", "2", "3"}, recvStrings(t, server, 4), "the first four were kept, in order")
		assert.Zero(t, ln.Stats().Dropped, "queue drops are the conversation's, not the listener's")
		assert.Zero(t, client.Stats().Dropped)

		require.NoError(t, client.SendString("room again"))
		assert.Equal(t, []string{"room again"}, recvStrings(t, server, 1))
	})
}

func TestOversizeDatagramIsReportedAndConversationGoesOn(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		small := &sockmsg.Config{MaxMessageSize: 10}
		// Both receiving sides: the listener's demultiplexer, and a dialled socket.
		for _, side := range []struct {
			name               string
			listenCfg, dialCfg *sockmsg.Config
			listenerReceives   bool
		}{{"listener", small, nil, true}, {"dialled", nil, small, false}} {
			t.Run(side.name, func(t *testing.T) {
				ln := listen(t, ctx, tr, side.listenCfg)
				client := dial(t, ctx, side.dialCfg, ln)
				require.NoError(t, client.SendString("hello"))
				server := accept(t, ctx, ln, "hello")
				from, to := client, server
				if !side.listenerReceives {
					from, to = server, client
				}
				for range 2 { // the second time, on ConnectedPeers, surely from the peer's own socket
					require.NoError(t, from.SendString("01234567890"))
					require.NoError(t, from.SendString("0123456789"))
					_, err := to.Recv()
					require.Error(t, err)
					assert.ErrorIs(t, err, sockmsg.ErrMessageTooLarge)
					var se *sockmsg.MessageSizeError
					require.ErrorAs(t, err, &se)
					assert.True(t, se.Datagram)
					assert.Equal(t, 10, se.Max)
					assert.Contains(t, err.Error(), "conversation goes on")
					got, err := to.RecvString()
					require.NoError(t, err, "an oversize datagram does not end the conversation")
					assert.Equal(t, "0123456789", got, "nor is it delivered cut short")
				}
			})
		}
	})
}

func TestUDPIdleTimeout(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		cfg := &sockmsg.Config{IdleTimeout: 100 * time.Millisecond}
		ln := listen(t, ctx, tr, cfg)
		client := dial(t, ctx, nil, ln)
		require.NoError(t, client.SendString("hello"))
		server := accept(t, ctx, ln, "hello")

		// The peer goes silent: the blocked Recv ends with ErrIdleTimeout.
		_, err := server.Recv()
		require.Error(t, err)
		assert.ErrorIs(t, err, sockmsg.ErrIdleTimeout)
		assert.NotErrorIs(t, err, os.ErrDeadlineExceeded, "the conversation is over, not merely late")
		assert.NotErrorIs(t, err, io.EOF)
		assert.Contains(t, err.Error(), "next datagram starts a new conversation")
		assert.Equal(t, 1, strings.Count(err.Error(), "sockmsg:"), err.Error())
		_, again := server.Recv()
		assert.ErrorIs(t, again, sockmsg.ErrIdleTimeout, "and stays so")
		assert.ErrorIs(t, server.SendString("too late"), sockmsg.ErrIdleTimeout)

		// The peer speaks again: a new conversation.
		require.NoError(t, client.SendString("back"))
		next := accept(t, ctx, ln, "back")
		require.NoError(t, next.SendString("welcome back"))
		assert.Equal(t, []string{"welcome back"}, recvStrings(t, client, 1))

		// What came before the peer fell silent is still delivered. On the queue the
		// conversation ends with it queued; on ConnectedPeers a datagram waiting unread on
		// the peer's socket keeps the conversation alive until it is read.
		require.NoError(t, client.SendString("queued"))
		if !tr.connected {
			require.Eventually(t, func() bool { return next.SendString("ping") != nil }, 10*time.Second, 5*time.Millisecond)
		}
		got, err := next.RecvString()
		require.NoError(t, err)
		assert.Equal(t, "queued", got)
		_, err = next.Recv()
		assert.ErrorIs(t, err, sockmsg.ErrIdleTimeout)
	})
}

func TestUDPTrafficKeepsConversationAlive(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		cfg := &sockmsg.Config{IdleTimeout: 400 * time.Millisecond}
		server, client := pair(t, ctx, tr, cfg)
		// Ten messages 100ms apart span a second, well past the idle timeout.
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := range 10 {
			<-tick.C
			require.NoError(t, client.SendString(fmt.Sprint(i)))
			got, err := server.RecvString()
			require.NoError(t, err, "message %d", i)
			assert.Equal(t, fmt.Sprint(i), got)
		}
	})
}

func TestUDPListenerCloseEndsEverything(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		ln := listen(t, ctx, tr, nil)
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
		if tr.network == "unixgram" {
			_, err := os.Stat(ln.Addr().String())
			assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the socket file")
		}
	})
}

func TestUDPCloseRemovesThatPeerOnly(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		ln := listen(t, ctx, tr, nil)
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

		// a's next datagram starts a new conversation (on ConnectedPeers: the closed
		// one's socket is gone, so it reaches the listener), which works both ways.
		require.NoError(t, a.SendString("a again"))
		sa2 := accept(t, ctx, ln, "a again")
		assert.Equal(t, a.LocalAddr().String(), sa2.RemoteAddr().String())
		require.NoError(t, sa2.SendString("hello again"))
		assert.Equal(t, []string{"hello again"}, recvStrings(t, a, 1))
		require.NoError(t, a.SendString("and on"))
		assert.Equal(t, []string{"and on"}, recvStrings(t, sa2, 1))
		assert.Equal(t, sockmsg.ListenerStats{Accepted: 3, Open: 2}, ln.Stats())
	})
}

func TestUDPServerSideDeadlinesAndContexts(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, nil)

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
	})
}

func TestUDPStats(t *testing.T) {
	eachPacket(t, func(t *testing.T, ctx context.Context, tr transport) {
		ln := listen(t, ctx, tr, nil)
		client := dial(t, ctx, nil, ln)
		require.NoError(t, client.SendString("abc"))
		require.NoError(t, client.SendString("de"))
		server, err := ln.AcceptContext(ctx)
		require.NoError(t, err)
		defer server.Close()
		assert.Equal(t, sockmsg.ListenerStats{Accepted: 1, Open: 1}, ln.Stats())
		recvStrings(t, server, 2)
		assert.Equal(t, sockmsg.ConversationStats{MessagesSent: 2, BytesSent: 5}, client.Stats())
		assert.Equal(t, sockmsg.ConversationStats{MessagesReceived: 2, BytesReceived: 5}, server.Stats())
	})
}

func TestUnixgramDialBindsAndCleansUp(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	server, client := pair(t, ctx, transport{name: "unixgram", network: "unixgram"}, nil)
	path := client.LocalAddr().String()
	require.NotEmpty(t, path, "the client is bound, so the server can answer")
	_, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, server.SendString("answer"))
	assert.Equal(t, []string{"answer"}, recvStrings(t, client, 1))
	require.NoError(t, client.Close())
	_, err = os.Stat(filepath.Dir(path))
	assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the client's socket file")
}

func TestUnixgramUnboundSenderIsCounted(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	ln := listen(t, ctx, transport{name: "unixgram", network: "unixgram"}, nil)
	// A socket with no address of its own: the server could never answer it.
	unbound, err := net.DialUnix("unixgram", nil, ln.Addr().(*net.UnixAddr))
	require.NoError(t, err)
	defer unbound.Close()
	_, err = unbound.Write([]byte("anonymous"))
	require.NoError(t, err)
	client := dial(t, ctx, nil, ln)
	require.NoError(t, client.SendString("named"))
	accept(t, ctx, ln, "named")
	assert.Equal(t, uint64(1), ln.Stats().Dropped)
}

func TestUDPDatagramsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	for _, tr := range udpTransports {
		for _, size := range []int{64, 16 << 10} {
			t.Run(fmt.Sprint(tr.name, "/", size), func(t *testing.T) { datagramsDoNotAllocate(t, tr, size) })
		}
	}
}

func datagramsDoNotAllocate(t *testing.T, tr transport, size int) {
	ctx := testTimeout(t, 20*time.Second)
	server, client := pair(t, ctx, tr, nil)
	msg := []byte(strings.Repeat("u", size))
	buf := make([]byte, 0, 64<<10)
	roundTrip := func() {
		var err error
		if err = client.Send(msg); err == nil {
			buf, err = server.AppendRecv(buf[:0]) // from the queue or the peer's socket
		}
		if err == nil {
			err = server.Send(msg)
		}
		if err == nil {
			buf, err = client.AppendRecv(buf[:0])
		}
		if err != nil {
			panic(err)
		}
	}
	for range 10 {
		roundTrip() // warm up: buffers are made once
	}
	assert.Zero(t, testing.AllocsPerRun(200, roundTrip))
}

// python3 returns the path of python3, or skips the test.
func python3(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed; the interop test needs it")
	}
	return py
}

func TestUDPInteropWithPython(t *testing.T) {
	py := python3(t)
	t.Run("python sends to a Go listener", func(t *testing.T) {
		ctx := testTimeout(t, 20*time.Second)
		ln := listen(t, ctx, packetTransports[0], nil)
		_, port, err := net.SplitHostPort(ln.Addr().String())
		require.NoError(t, err)
		cmd := exec.CommandContext(ctx, py, "testdata/udp_peer.py", "client", "127.0.0.1", port)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())

		server, err := ln.AcceptContext(ctx)
		require.NoError(t, err)
		defer server.Close()
		got, err := server.RecvString()
		require.NoError(t, err)
		assert.Equal(t, "merhaba", got)
		require.NoError(t, server.SendString("MERHABA, python"))
		_, err = server.Recv()
		var ck *sockmsg.CloseKeyError
		require.ErrorAs(t, err, &ck, "python says goodbye with a close key")
		assert.Equal(t, "exit", ck.Key)
		assert.Equal(t, "EXİT", ck.Text)
		require.NoError(t, cmd.Wait(), out.String())
		assert.Equal(t, "got 'MERHABA, python' from the address it sent to\n", out.String())
	})
	t.Run("Go dials a python server", func(t *testing.T) {
		ctx := testTimeout(t, 20*time.Second)
		cmd := exec.CommandContext(ctx, py, "testdata/udp_peer.py", "server", "127.0.0.1")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(stdout)
		require.True(t, lines.Scan(), "python prints its address")
		addr := lines.Text()

		client, err := sockmsg.DialContext(ctx, "udp", addr)
		require.NoError(t, err)
		for _, m := range []string{"selam", "çok güzel"} {
			require.NoError(t, client.SendString(m))
			got, err := client.RecvString()
			require.NoError(t, err)
			assert.Equal(t, strings.ToUpper(m), got)
		}
		require.NoError(t, client.Goodbye("kapat"))
		for lines.Scan() {
		}
		require.NoError(t, cmd.Wait(), stderr.String())
	})
}

func TestErrIdleTimeoutIsNotADeadline(t *testing.T) {
	assert.False(t, errors.Is(sockmsg.ErrIdleTimeout, os.ErrDeadlineExceeded))
	assert.Contains(t, sockmsg.ErrIdleTimeout.Error(), "idle")
}

// BenchmarkUDPRoundTrip sends a datagram to the listener side and back.
func BenchmarkUDPRoundTrip(b *testing.B) {
	for _, tr := range udpTransports {
		b.Run(tr.name, func(b *testing.B) { udpRoundTrips(b, tr) })
	}
}

func udpRoundTrips(b *testing.B, tr transport) {
	ctx := testTimeout(b, time.Minute)
	server, client := pair(b, ctx, tr, nil)
	msg := []byte(strings.Repeat("b", 512))
	buf := make([]byte, 0, 64<<10)
	// Warm up: the client's receive buffer is made on its first Recv.
	require.NoError(b, server.Send(msg))
	_, err := client.Recv()
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(2 * len(msg)))
	for b.Loop() {
		if err := client.Send(msg); err != nil {
			b.Fatal(err)
		}
		var err error
		if buf, err = server.AppendRecv(buf[:0]); err != nil {
			b.Fatal(err)
		}
		if err := server.Send(msg); err != nil {
			b.Fatal(err)
		}
		if buf, err = client.AppendRecv(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUDPRoundTripRaw is BenchmarkUDPRoundTrip on plain sockets, for comparison:
// an unconnected server socket, a connected client.
func BenchmarkUDPRoundTripRaw(b *testing.B) {
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(b, err)
	defer srv.Close()
	cli, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
	require.NoError(b, err)
	defer cli.Close()
	msg := []byte(strings.Repeat("b", 512))
	buf := make([]byte, 64<<10)
	b.ReportAllocs()
	b.SetBytes(int64(2 * len(msg)))
	for b.Loop() {
		if _, err := cli.Write(msg); err != nil {
			b.Fatal(err)
		}
		_, from, err := srv.ReadFromUDPAddrPort(buf)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := srv.WriteToUDPAddrPort(msg, from); err != nil {
			b.Fatal(err)
		}
		if _, err := cli.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDialledUDPSurvivesARefusedDatagram(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	ln, err := sockmsg.Listen("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	c, err := sockmsg.DialContext(ctx, "udp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SendString("anyone?"))
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = c.RecvContext(short)
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "the system reports the port unreachable")
	short2, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	_, err = c.RecvContext(short2)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the refusal was not final: the conversation waits again")
}

// BenchmarkUDPManyPeers is 16 clients doing ping-pong at once against one listener, a
// goroutine per conversation on the server; an op is one round trip of one client.
func BenchmarkUDPManyPeers(b *testing.B) {
	for _, tr := range udpTransports {
		b.Run(tr.name, func(b *testing.B) {
			const clients = 16
			ctx := testTimeout(b, time.Minute)
			ln := listen(b, ctx, tr, nil)
			msg := []byte(strings.Repeat("b", 64))
			var wg sync.WaitGroup
			defer wg.Wait()
			conns := make([]*sockmsg.Conversation, clients)
			for i := range conns {
				conns[i] = dial(b, ctx, nil, ln)
				require.NoError(b, conns[i].Send(msg))
				server := accept(b, ctx, ln, string(msg))
				require.NoError(b, server.Send(msg))
				_, err := conns[i].Recv()
				require.NoError(b, err)
				wg.Go(func() {
					buf := make([]byte, 0, 64<<10)
					for {
						var err error
						if buf, err = server.AppendRecv(buf[:0]); err != nil {
							return
						}
						if server.Send(buf) != nil {
							return
						}
					}
				})
				b.Cleanup(func() { _ = server.Close() })
			}
			b.ReportAllocs()
			var next atomic.Int64
			next.Store(int64(b.N))
			b.ResetTimer()
			var cw sync.WaitGroup
			for _, c := range conns {
				cw.Go(func() {
					buf := make([]byte, 0, 64<<10)
					for next.Add(-1) >= 0 {
						if err := c.Send(msg); err != nil {
							b.Error(err)
							return
						}
						var err error
						if buf, err = c.AppendRecv(buf[:0]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			cw.Wait()
			b.StopTimer()
			for _, c := range conns {
				_ = c.Close()
			}
			_ = ln.Close()
		})
	}
}
