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
