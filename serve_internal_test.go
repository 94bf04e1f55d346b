package sockmsg

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flakyAcceptor fails its first Accepts with a temporary error, as a process out of file
// descriptors sees.
type flakyAcceptor struct {
	acceptor
	failures atomic.Int32
}

func (f *flakyAcceptor) Accept() (net.Conn, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "unix", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return f.acceptor.Accept()
}

func TestServeRetriesTemporaryAcceptErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "s")
	ln, err := (*Config)(nil).Listen(ctx, "unix", path)
	require.NoError(t, err)
	flaky := &flakyAcceptor{acceptor: ln.ln}
	flaky.failures.Store(3)
	ln.ln = flaky

	reported := make(chan error, 3)
	srv := &Server{
		Handler: func(ctx context.Context, c *Conversation) error {
			return c.SendString("hello")
		},
		OnError: func(c *Conversation, err error) {
			assert.Nil(t, c)
			reported <- err
		},
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()

	client, err := (*Config)(nil).Dial(ctx, "unix", path)
	require.NoError(t, err)
	defer client.Close()
	msg, err := client.RecvString()
	require.NoError(t, err)
	assert.Equal(t, "hello", msg, "served after three failed Accepts")
	for range 3 {
		assert.ErrorIs(t, <-reported, syscall.EMFILE)
	}
	assert.Equal(t, uint64(3), srv.Stats().AcceptErrors)
	stop()
	require.NoError(t, <-done)
}

// signalConn tells, on a channel with room for one, when a Read or a Write begins.
type signalConn struct {
	net.Conn
	reading, writing chan struct{}
}

func (c *signalConn) Read(b []byte) (int, error) {
	select {
	case c.reading <- struct{}{}:
	default:
	}
	return c.Conn.Read(b)
}

func (c *signalConn) Write(b []byte) (int, error) {
	select {
	case c.writing <- struct{}{}:
	default:
	}
	return c.Conn.Write(b)
}

// A Server's ReadTimeout and WriteTimeout bound each call even when the program sets a
// later deadline while the call waits.
func TestCallTimeoutOutlastsADeadlineSetDuringTheCall(t *testing.T) {
	cases := []struct {
		name string
		set  func(c *Conversation, t time.Time) error
		call func(c *Conversation) error
	}{
		{"recv, SetReadDeadline", (*Conversation).SetReadDeadline, func(c *Conversation) error { _, err := c.Recv(); return err }},
		{"recv, SetDeadline", (*Conversation).SetDeadline, func(c *Conversation) error { _, err := c.Recv(); return err }},
		// The peer does not read: a 32 MiB message fills the socket buffers and Send waits.
		{"send, SetWriteDeadline", (*Conversation).SetWriteDeadline, func(c *Conversation) error { return c.Send(make([]byte, 32<<20)) }},
		{"send, SetDeadline", (*Conversation).SetDeadline, func(c *Conversation) error { return c.Send(make([]byte, 32<<20)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			peer, err := net.Dial("tcp", ln.Addr().String())
			require.NoError(t, err)
			defer peer.Close()
			raw, err := ln.Accept()
			require.NoError(t, err)
			sc := &signalConn{Conn: raw, reading: make(chan struct{}, 1), writing: make(chan struct{}, 1)}
			s, err := (&Config{Framing: LengthPrefixed, MaxMessageSize: 64 << 20}).resolve("tcp")
			require.NoError(t, err)
			c := newConversation(sc, s)
			defer c.Close()
			c.recvTimeout, c.sendTimeout = 100*time.Millisecond, 100*time.Millisecond // as Server sets them

			errs := make(chan error, 1)
			go func() { errs <- tc.call(c) }()
			select {
			case <-sc.reading:
			case <-sc.writing:
			case <-ctx.Done():
				t.Fatal("the call never reached the socket")
			}
			require.NoError(t, tc.set(c, time.Now().Add(time.Hour)))
			select {
			case err := <-errs:
				assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			case <-ctx.Done():
				t.Fatal("the later deadline lifted the call's time limit")
			}
		})
	}
}
