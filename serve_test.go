package sockmsg_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// served is a Server running on a listener in the background.
type served struct {
	ln     *sockmsg.Listener
	srv    *sockmsg.Server
	cancel context.CancelFunc
	done   chan error
	errs   *errorLog
}

// errorLog collects what the Server reports through OnError.
type errorLog struct {
	mu   sync.Mutex
	errs []error
	ch   chan error // the first reports, for tests to wait on
}

func (l *errorLog) add(_ *sockmsg.Conversation, err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
	select {
	case l.ch <- err:
	default:
	}
}

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// serve starts srv on a fresh listener for the transport. OnError is set to record into
// the returned log unless the test set it. The server is stopped when the test ends.
func serve(t testing.TB, ctx context.Context, tr transport, cfg *sockmsg.Config, srv *sockmsg.Server) *served {
	t.Helper()
	ln := listen(t, ctx, tr, cfg)
	s := &served{ln: ln, srv: srv, done: make(chan error, 1), errs: &errorLog{ch: make(chan error, 100)}}
	if srv.OnError == nil {
		srv.OnError = s.errs.add
	}
	sctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	go func() { s.done <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() { _ = s.stop() })
	return s
}

// stop cancels Serve's context and returns what Serve returned. It may be called again.
func (s *served) stop() error {
	s.cancel()
	err, ok := <-s.done
	if ok {
		close(s.done)
	}
	return err
}

// dial connects a client to the served listener; the test closes it when it ends.
func (s *served) dial(t testing.TB, ctx context.Context, cfg *sockmsg.Config) *sockmsg.Conversation {
	t.Helper()
	c, err := cfg.Dial(ctx, s.ln.Addr().Network(), s.ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// echo sends every message back until the peer leaves.
func echo(ctx context.Context, c *sockmsg.Conversation) error {
	for {
		msg, err := c.RecvContext(ctx)
		if err != nil {
			return err
		}
		if err := c.Send(msg); err != nil {
			return err
		}
	}
}

// roundTrip sends msg and requires it back.
func roundTrip(t testing.TB, c *sockmsg.Conversation, msg string) {
	t.Helper()
	require.NoError(t, c.SendString(msg))
	got, err := c.RecvString()
	require.NoError(t, err)
	require.Equal(t, msg, got)
}

func TestServeManyPeers(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		srv := &sockmsg.Server{Handler: echo}
		s := serve(t, ctx, tr, nil, srv)
		const peers, msgs = 50, 20
		var wg sync.WaitGroup
		for p := range peers {
			c := s.dial(t, ctx, nil)
			wg.Go(func() {
				for i := range msgs {
					roundTrip(t, c, fmt.Sprintf("peer %d message %d", p, i))
				}
				assert.NoError(t, c.Close())
			})
		}
		wg.Wait()
		require.NoError(t, s.stop())
		st := srv.Stats()
		assert.Equal(t, uint64(peers), st.Accepted)
		assert.Equal(t, uint64(peers), st.Handled)
		assert.Zero(t, st.Active)
		assert.Zero(t, st.HandlerErrors, "a peer leaving is no error: %v", s.errs.all())
		assert.Zero(t, s.ln.Stats().Open)
	})
}

func TestServeOneFailureDoesNotStopOthers(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		boom := errors.New("boom")
		srv := &sockmsg.Server{Handler: func(ctx context.Context, c *sockmsg.Conversation) error {
			msg, err := c.RecvString()
			if err != nil {
				return err
			}
			switch msg {
			case "fail":
				return boom
			case "panic":
				panic("handler bug")
			case "timeout":
				return &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
			}
			if err := c.SendString(msg); err != nil {
				return err
			}
			return echo(ctx, c)
		}}
		s := serve(t, ctx, tr, nil, srv)
		steady := s.dial(t, ctx, nil)
		roundTrip(t, steady, "first")
		for _, what := range []string{"fail", "panic", "timeout"} {
			c := s.dial(t, ctx, nil)
			require.NoError(t, c.SendString(what))
			_, err := c.Recv()
			assert.ErrorIs(t, err, io.EOF, "the failed handler's conversation is closed")
			roundTrip(t, steady, "still served after "+what)
		}
		require.NoError(t, s.stop())
		// Reports may come in any order: a client can see its end before the report.
		var failed, panicked, timedOut error
		for _, err := range s.errs.all() {
			var pe *sockmsg.PanicError
			switch {
			case errors.Is(err, boom):
				failed = err
			case errors.As(err, &pe):
				panicked = err
				assert.Equal(t, "handler bug", pe.Value)
				assert.Contains(t, string(pe.Stack), "serve_test.go")
			case errors.Is(err, os.ErrDeadlineExceeded):
				timedOut = err
			default:
				t.Errorf("unexpected report: %v", err)
			}
		}
		assert.Error(t, failed)
		assert.ErrorIs(t, panicked, sockmsg.ErrHandlerPanic)
		assert.Error(t, timedOut)
		st := srv.Stats()
		assert.Equal(t, uint64(3), st.HandlerErrors)
		assert.Equal(t, uint64(1), st.Panics)
		assert.Equal(t, uint64(1), st.Timeouts)
	})
}

// gate is a handler that reports each conversation it starts and holds it until the
// peer leaves.
func gate(started chan<- string) func(ctx context.Context, c *sockmsg.Conversation) error {
	return func(ctx context.Context, c *sockmsg.Conversation) error {
		msg, err := c.RecvString()
		if err != nil {
			return err
		}
		started <- msg
		if err := c.SendString("served " + msg); err != nil {
			return err
		}
		_, err = c.Recv()
		return err
	}
}

func TestServeMaxConversationsWait(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		started := make(chan string, 3)
		srv := &sockmsg.Server{Handler: gate(started), MaxConversations: 2}
		s := serve(t, ctx, tr, nil, srv)
		var clients []*sockmsg.Conversation
		for i := range 3 {
			c := s.dial(t, ctx, nil)
			require.NoError(t, c.SendString(fmt.Sprint(i)))
			clients = append(clients, c)
		}
		first, second := <-started, <-started
		assert.ElementsMatch(t, []string{"0", "1"}, []string{first, second}, "the third waits")
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := clients[2].RecvContext(short)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the third is not served while two are")
		assert.Equal(t, int64(2), srv.Stats().Active)

		require.NoError(t, clients[0].Close())
		assert.Equal(t, "2", <-started, "a slot freed: the third is served")
		got, err := clients[2].RecvString()
		require.NoError(t, err)
		assert.Equal(t, "served 2", got)
		assert.Zero(t, srv.Stats().Refused)
	})
}

func TestServeMaxConversationsRefuse(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		started := make(chan string, 2)
		srv := &sockmsg.Server{Handler: gate(started), MaxConversations: 1, WhenFull: sockmsg.RefuseWhenFull, RefuseMessage: "full, come back later"}
		s := serve(t, ctx, tr, nil, srv)
		held := s.dial(t, ctx, nil)
		require.NoError(t, held.SendString("held"))
		assert.Equal(t, "held", <-started)

		refused := s.dial(t, ctx, nil)
		msg, err := refused.RecvString()
		require.NoError(t, err)
		assert.Equal(t, "full, come back later", msg)
		_, err = refused.Recv()
		assert.ErrorIs(t, err, sockmsg.ErrCloseKey, "then a goodbye")
		assert.Equal(t, uint64(1), srv.Stats().Refused)

		require.NoError(t, held.Close())
		// The slot is free again; a new peer may have to wait for the handler to return.
		for {
			c := s.dial(t, ctx, nil)
			require.NoError(t, c.SendString("next"))
			msg, err := c.RecvString()
			require.NoError(t, err)
			if msg == "served next" {
				break
			}
			assert.Equal(t, "full, come back later", msg)
		}
	})
}

func TestServeGracefulShutdownLosesNothing(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		const n = 1000
		sent := make(chan struct{})
		srv := &sockmsg.Server{Handler: func(ctx context.Context, c *sockmsg.Conversation) error {
			for i := range n {
				if err := c.SendString(fmt.Sprint(i)); err != nil {
					return err
				}
			}
			close(sent)
			_, err := c.RecvContext(ctx) // waits until shutdown
			return err
		}}
		s := serve(t, ctx, tr, nil, srv)
		client := s.dial(t, ctx, nil)
		// The client reads as the handler sends (n small messages may not fit the socket
		// buffers), and keeps reading until the end.
		type result struct {
			msgs []string
			err  error
		}
		got := make(chan result, 1)
		go func() {
			var r result
			for {
				msg, err := client.RecvString()
				if err != nil {
					r.err = err
					got <- r
					return
				}
				r.msgs = append(r.msgs, msg)
			}
		}()
		<-sent
		require.NoError(t, s.stop(), "Serve returns nil after its context ends")
		r := <-got
		require.Len(t, r.msgs, n, "every message the handler sent arrived")
		for i, msg := range r.msgs {
			require.Equal(t, fmt.Sprint(i), msg)
		}
		var ck *sockmsg.CloseKeyError
		require.ErrorAs(t, r.err, &ck, "the server said goodbye after the last message")
		assert.Equal(t, "bye", ck.Key)
		assert.Empty(t, s.errs.all(), "a handler that ends with its context is no failure")

		// The listener is closed: nobody else gets in.
		_, err := sockmsg.DialContext(ctx, tr.network, s.ln.Addr().String())
		assert.Error(t, err)
	})
}

func TestServeShutdownGraceForcesStubbornHandlers(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		ready := make(chan struct{})
		srv := &sockmsg.Server{ShutdownGrace: 100 * time.Millisecond, Handler: func(_ context.Context, c *sockmsg.Conversation) error {
			if err := c.SendString("last words"); err != nil {
				return err
			}
			close(ready)
			_, err := c.Recv() // ignores the context: only the Server's goodbye unblocks it
			return err
		}}
		s := serve(t, ctx, tr, nil, srv)
		client := s.dial(t, ctx, nil)
		<-ready
		start := time.Now()
		require.NoError(t, s.stop())
		assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "the grace period was given")
		msg, err := client.RecvString()
		require.NoError(t, err)
		assert.Equal(t, "last words", msg)
		_, err = client.Recv()
		assert.ErrorIs(t, err, sockmsg.ErrCloseKey)
		errs := s.errs.all()
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], sockmsg.ErrShutdownGrace)
		assert.Equal(t, uint64(1), srv.Stats().ShutdownForced)
	})
}

func TestServeIdleTimeoutEndsSlowloris(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		srv := &sockmsg.Server{Handler: echo, IdleTimeout: 200 * time.Millisecond}
		s := serve(t, ctx, tr, nil, srv)

		// Half a message, then nothing: the handler's Recv would wait for ever.
		var d net.Dialer
		loris, err := d.DialContext(ctx, tr.network, s.ln.Addr().String())
		require.NoError(t, err)
		defer loris.Close()
		_, err = loris.Write([]byte("half a mess"))
		require.NoError(t, err)

		// An active peer is not idle, even past the timeout.
		active := s.dial(t, ctx, nil)
		deadline := time.Now().Add(400 * time.Millisecond)
		for time.Now().Before(deadline) {
			roundTrip(t, active, "ping")
		}

		select {
		case err := <-s.errs.ch:
			assert.ErrorIs(t, err, sockmsg.ErrIdleTimeout)
		case <-ctx.Done():
			t.Fatal("the stalled peer was never timed out")
		}
		// The stalled peer got a goodbye, then the end of the stream.
		rest, err := io.ReadAll(loris)
		require.NoError(t, err)
		assert.Equal(t, "bye\n", string(rest))
		roundTrip(t, active, "still served")
		assert.Equal(t, uint64(1), srv.Stats().IdleTimeouts)
	})
}

func TestServeReadAndWriteTimeouts(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		results := make(chan error, 2)
		srv := &sockmsg.Server{ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond,
			Handler: func(ctx context.Context, c *sockmsg.Conversation) error {
				msg, err := c.RecvString()
				if err != nil {
					return err
				}
				if msg == "read" {
					_, err = c.Recv() // the peer sends half a message and stalls
					results <- err
					return err
				}
				big := strings.Repeat("x", 60000)
				for { // the peer does not read: the socket buffers fill up
					if err := c.SendString(big); err != nil {
						results <- err
						return err
					}
				}
			}}
		s := serve(t, ctx, tr, nil, srv)
		var d net.Dialer
		for _, what := range []string{"read", "write"} {
			conn, err := d.DialContext(ctx, tr.network, s.ln.Addr().String())
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.Write([]byte(what + "\nhalf"))
			require.NoError(t, err)
			err = <-results
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded, what)
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
		}
		require.NoError(t, s.stop())
		assert.Equal(t, uint64(2), srv.Stats().Timeouts)
	})
}

func TestServeListenerClosedUnderneath(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		srv := &sockmsg.Server{Handler: echo}
		s := serve(t, ctx, tr, nil, srv)
		c := s.dial(t, ctx, nil)
		roundTrip(t, c, "before")
		require.NoError(t, s.ln.Close())
		roundTrip(t, c, "the live conversation goes on")
		require.NoError(t, c.Close())
		err := <-s.done
		assert.ErrorIs(t, err, net.ErrClosed, "Serve reports why it stopped accepting")
		close(s.done)
	})
}

func TestServeInvalidOptions(t *testing.T) {
	ctx := testTimeout(t, 10*time.Second)
	for name, srv := range map[string]*sockmsg.Server{
		"no handler":       {},
		"negative idle":    {Handler: echo, IdleTimeout: -1},
		"negative read":    {Handler: echo, ReadTimeout: -1},
		"negative write":   {Handler: echo, WriteTimeout: -1},
		"unknown WhenFull": {Handler: echo, WhenFull: 7},
	} {
		ln := listen(t, ctx, streamTransports[0], nil)
		err := srv.Serve(ctx, ln)
		assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig, name)
		assert.ErrorIs(t, ln.Close(), net.ErrClosed, "%s: Serve closed the listener", name)
	}
}

func TestServeFunction(t *testing.T) {
	ctx := testTimeout(t, 10*time.Second)
	ln := listen(t, ctx, streamTransports[0], nil)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sockmsg.Serve(sctx, ln, echo) }()
	c, err := sockmsg.DialContext(ctx, "tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, "hello")
	cancel()
	require.NoError(t, <-done)
	_, err = c.Recv()
	assert.ErrorIs(t, err, sockmsg.ErrCloseKey)
}
