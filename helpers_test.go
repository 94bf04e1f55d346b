package sockmsg_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// transport is one network the behaviour tests run over.
type transport struct {
	name    string
	network string
	stream  bool
	// connected: listen with Config.ConnectedPeers, whatever else the test's Config says.
	connected bool
}

// config is cfg as the transport listens with it.
func (tr transport) config(cfg *sockmsg.Config) *sockmsg.Config {
	if !tr.connected {
		return cfg
	}
	c := sockmsg.Config{}
	if cfg != nil {
		c = *cfg
	}
	c.ConnectedPeers = true
	return &c
}

// streamTransports are the stream networks; every stream behaviour test runs over each.
var streamTransports = []transport{
	{name: "tcp", network: "tcp", stream: true},
	{name: "unix", network: "unix", stream: true},
}

// testTimeout bounds a test: it returns a context that ends after d, and if the test is
// still running well after that, it panics with every goroutine's stack so a hang shows
// where it hangs instead of stalling CI.
func testTimeout(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	timer := time.AfterFunc(d+10*time.Second, func() {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		panic(fmt.Sprintf("%s did not finish in %v; goroutines:\n%s", t.Name(), d, buf[:n]))
	})
	t.Cleanup(func() {
		timer.Stop()
		cancel()
	})
	return ctx
}

// localAddress returns an address to listen on for the network: a free loopback port,
// or a fresh unix socket path (short, to fit the 108-byte limit).
func localAddress(t testing.TB, network string) string {
	t.Helper()
	switch network {
	case "unix", "unixgram":
		dir, err := os.MkdirTemp("", "sockmsg")
		require.NoError(t, err)
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		return filepath.Join(dir, "s.sock")
	case "tcp6", "udp6":
		return "[::1]:0"
	default:
		return "127.0.0.1:0"
	}
}

// listen opens a listener for the transport that the test closes when it ends.
func listen(t testing.TB, ctx context.Context, tr transport, cfg *sockmsg.Config) *sockmsg.Listener {
	t.Helper()
	ln, err := tr.config(cfg).Listen(ctx, tr.network, localAddress(t, tr.network))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// pair returns the two ends of one conversation over the transport: the server's
// (accepted) and the client's (dialled). Both are closed when the test ends.
func pair(t testing.TB, ctx context.Context, tr transport, cfg *sockmsg.Config) (server, client *sockmsg.Conversation) {
	t.Helper()
	ln := listen(t, ctx, tr, cfg)
	client, err := cfg.Dial(ctx, tr.network, ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	if !tr.stream {
		// A datagram listener learns of a peer from its first datagram.
		require.NoError(t, client.SendString("hello"))
	}
	server, err = ln.AcceptContext(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = server.Close() })
	if !tr.stream {
		hello, err := server.RecvString()
		require.NoError(t, err)
		require.Equal(t, "hello", hello)
	}
	return server, client
}

// rawPair returns a conversation and the plain net.Conn at the other end, for tests that
// write bytes the library would never send.
func rawPair(t testing.TB, ctx context.Context, tr transport, cfg *sockmsg.Config) (*sockmsg.Conversation, net.Conn) {
	t.Helper()
	ln := listen(t, ctx, tr, cfg)
	var d net.Dialer
	conn, err := d.DialContext(ctx, tr.network, ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	server, err := ln.AcceptContext(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = server.Close() })
	return server, conn
}

// each runs f as a parallel subtest over every transport of trs.
func each(t *testing.T, trs []transport, f func(t *testing.T, ctx context.Context, tr transport)) {
	for _, tr := range trs {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			f(t, testTimeout(t, 20*time.Second), tr)
		})
	}
}

// tempSocketPath returns a unix socket path for an example; the listener removes the
// file when it closes.
func tempSocketPath() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("sockmsg-example-%d.sock", os.Getpid()))
}

// eachStream runs f as a parallel subtest over every stream transport.
func eachStream(t *testing.T, f func(t *testing.T, ctx context.Context, tr transport)) {
	each(t, streamTransports, f)
}

// recvCancelled starts a RecvContext on c, cancels its context from this goroutine, and
// returns the cancelled context and what the RecvContext returned.
func recvCancelled(ctx context.Context, c *sockmsg.Conversation) (context.Context, error) {
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := c.RecvContext(cctx)
		done <- err
	}()
	cancel()
	return cctx, <-done
}
