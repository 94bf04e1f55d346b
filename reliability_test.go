package sockmsg_test

// The reliability suites: load, faults and hostile input against a Server. Each runs a
// bounded version by default; the full figures of RELIABILITY.md need
//
//	SOCKMSG_RELIABILITY=1 go test -run 'Load|Faults|Hostile' -count=1 -v -timeout 30m .
//
// (without -short). The figures are written with t.Logf.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
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

// fullSuite reports whether the long versions of the reliability suites should run.
func fullSuite() bool {
	return !testing.Short() && os.Getenv("SOCKMSG_RELIABILITY") != ""
}

// scale picks the full or the bounded size of a suite.
func scale(full, bounded int) int {
	if fullSuite() {
		return full
	}
	return bounded
}

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd here")
	}
	return len(entries)
}

// checkNoFileLeak fails the test if, when it ends, more files are open than now. A
// conversation that said Goodbye keeps its socket for a short linger in the background,
// so the count is given a few seconds to settle.
func checkNoFileLeak(t *testing.T) {
	t.Helper()
	before := openFiles(t)
	t.Cleanup(func() {
		assert.Eventually(t, func() bool { return openFiles(t) <= before }, 5*time.Second, 10*time.Millisecond,
			"file descriptors leaked: %d open, %d before", openFiles(t), before)
	})
}

// heapInUse returns the bytes of heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// numbered is the handler of the load suite: it requires every message to be
// "<conversation> <n>" with n counting up from 0 without a gap, and echoes it.
func numbered(ctx context.Context, c *sockmsg.Conversation) error {
	var buf []byte
	for want := 0; ; want++ {
		var err error
		if buf, err = c.AppendRecv(buf[:0]); err != nil {
			return err
		}
		_, n, ok := strings.Cut(string(buf), " ")
		if !ok || n != strconv.Itoa(want) {
			return fmt.Errorf("message %q out of order: want number %d", buf, want)
		}
		if err := c.Send(buf); err != nil {
			return err
		}
	}
}

func TestLoad(t *testing.T) {
	convs, perConv := scale(1000, 100), scale(1000, 50)
	raiseFileLimit(t, uint64(2*convs+100))
	for _, tr := range streamTransports {
		t.Run(tr.name, func(t *testing.T) {
			checkNoFileLeak(t)
			ctx := testTimeout(t, 10*time.Minute)
			heapBefore := heapInUse()
			srv := &sockmsg.Server{Handler: numbered, MaxConversations: convs}
			s := serve(t, ctx, tr, nil, srv)

			// Every client connects and is being served before any message is sent, so
			// that all conversations are held at once.
			clients := make([]*sockmsg.Conversation, convs)
			for i := range clients {
				clients[i] = s.dial(t, ctx, nil)
				roundTrip(t, clients[i], fmt.Sprintf("c%d 0", i))
			}
			held := srv.Stats().Active
			require.Equal(t, int64(convs), held)
			heapHeld := heapInUse()

			start := time.Now()
			var wg sync.WaitGroup
			var received atomic.Int64
			for i, c := range clients {
				wg.Go(func() { // the writer
					var msg []byte
					for n := 1; n < perConv; n++ {
						msg = fmt.Appendf(msg[:0], "c%d %d", i, n)
						if err := c.Send(msg); err != nil {
							t.Errorf("conversation %d: send %d: %v", i, n, err)
							return
						}
					}
				})
				wg.Go(func() { // the reader: every echo, once, in order
					var buf []byte
					for n := 1; n < perConv; n++ {
						var err error
						if buf, err = c.AppendRecv(buf[:0]); err != nil {
							t.Errorf("conversation %d: recv %d: %v", i, n, err)
							return
						}
						if want := fmt.Sprintf("c%d %d", i, n); string(buf) != want {
							t.Errorf("conversation %d: got %q, want %q", i, buf, want)
							return
						}
						received.Add(1)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			total := int64(convs * perConv) // the first message of each was the round trip
			assert.Equal(t, total-int64(convs), received.Load())
			for _, c := range clients {
				require.NoError(t, c.Close())
			}
			require.NoError(t, s.stop())
			st := srv.Stats()
			assert.Zero(t, st.HandlerErrors, "%v", s.errs.all())
			assert.Equal(t, uint64(convs), st.Handled)
			t.Logf("%s: %d conversations held at once, %d numbered messages sent and echoed (none lost, reordered or duplicated) in %v: %.0f messages/s each way; heap %.1f MiB before, %.1f MiB with every conversation held (%.1f KiB each)",
				tr.name, held, total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(),
				mib(heapBefore), mib(heapHeld), float64(int64(heapHeld)-int64(heapBefore))/1024/float64(convs))
		})
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// faultHandler echoes messages; "flood" makes it send until the peer is gone, and when
// the peer half-closes it answers "end" (if the peer still reads) before returning.
func faultHandler(ctx context.Context, c *sockmsg.Conversation) error {
	for {
		msg, err := c.RecvContext(ctx)
		if errors.Is(err, io.EOF) {
			_ = c.SendString("end")
			return err
		}
		if err != nil {
			return err
		}
		if string(msg) == "flood" {
			for {
				if err := c.SendString(strings.Repeat("f", 1000)); err != nil {
					return err
				}
			}
		}
		if err := c.Send(msg); err != nil {
			return err
		}
	}
}

// rawDial connects a plain socket to the served listener.
func (s *served) rawDial(t testing.TB, ctx context.Context) net.Conn {
	t.Helper()
	var d net.Dialer
	conn, err := d.DialContext(ctx, s.ln.Addr().Network(), s.ln.Addr().String())
	require.NoError(t, err)
	return conn
}

// reset closes conn abruptly: with a TCP reset where the network has one.
func reset(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func TestFaults(t *testing.T) {
	for _, tr := range streamTransports {
		t.Run(tr.name, func(t *testing.T) {
			checkNoFileLeak(t)
			ctx := testTimeout(t, 2*time.Minute)
			cfg := &sockmsg.Config{Framing: sockmsg.LengthPrefixed}
			srv := &sockmsg.Server{Handler: faultHandler, IdleTimeout: 300 * time.Millisecond}
			s := serve(t, ctx, tr, cfg, srv)
			healthy := func(what string) {
				c := s.dial(t, ctx, cfg)
				roundTrip(t, c, "served after "+what)
				require.NoError(t, c.Close())
			}
			nextReport := func() error {
				select {
				case err := <-s.errs.ch:
					return err
				case <-ctx.Done():
					t.Fatal("no report from the server")
					return nil
				}
			}

			t.Run("reset mid-frame", func(t *testing.T) {
				conn := s.rawDial(t, ctx)
				_, err := conn.Write([]byte{0, 0, 0, 100, 'p', 'a', 'r', 't'})
				require.NoError(t, err)
				reset(conn)
				err = nextReport()
				if !errors.Is(err, syscall.ECONNRESET) {
					assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				}
				var se *sockmsg.Error
				require.ErrorAs(t, err, &se)
				assert.NotEmpty(t, se.Hint)
				healthy("a reset")
			})

			t.Run("half-close", func(t *testing.T) {
				conn := s.rawDial(t, ctx)
				c, err := cfg.NewConversation(conn)
				require.NoError(t, err)
				defer c.Close()
				for i := range 3 {
					require.NoError(t, c.SendString(fmt.Sprint(i)))
				}
				require.NoError(t, conn.(interface{ CloseWrite() error }).CloseWrite())
				for _, want := range []string{"0", "1", "2", "end"} {
					got, err := c.RecvString()
					require.NoError(t, err)
					assert.Equal(t, want, got, "the server answers a half-closed peer to the end")
				}
				_, err = c.Recv()
				assert.ErrorIs(t, err, io.EOF)
				healthy("a half-close")
			})

			t.Run("stall", func(t *testing.T) {
				conn := s.rawDial(t, ctx)
				defer conn.Close()
				_, err := conn.Write([]byte{0, 0})
				require.NoError(t, err)
				assert.ErrorIs(t, nextReport(), sockmsg.ErrIdleTimeout)
				c, err := cfg.NewConversation(conn)
				require.NoError(t, err)
				_, err = c.Recv()
				assert.ErrorIs(t, err, sockmsg.ErrCloseKey, "the stalled peer was told goodbye")
				healthy("a stall")
			})

			t.Run("vanish", func(t *testing.T) {
				conn := s.rawDial(t, ctx)
				c, err := cfg.NewConversation(conn)
				require.NoError(t, err)
				require.NoError(t, c.SendString("flood"))
				_, err = c.Recv()
				require.NoError(t, err)
				reset(conn)
				err = nextReport()
				if !errors.Is(err, syscall.ECONNRESET) {
					assert.ErrorIs(t, err, syscall.EPIPE)
				}
				healthy("a vanished peer")
			})

			require.NoError(t, s.stop())
			assert.Zero(t, srv.Stats().Active)
			t.Logf("%s faults: %+v", tr.name, srv.Stats())
		})
	}
}

// streamUntilEnd makes a client send numbered messages and read their echoes until the
// conversation ends; it checks the echoes are in order and returns how it ended.
func streamUntilEnd(c *sockmsg.Conversation, id, from int, going chan<- struct{}) (echoed int, end error) {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for n := from; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if c.SendString(fmt.Sprintf("c%d %d", id, n)) != nil {
				return
			}
		}
	}()
	for n := from; ; n++ {
		msg, err := c.RecvString()
		if err != nil {
			_ = c.Close() // unblocks the writer
			return n - from, err
		}
		if want := fmt.Sprintf("c%d %d", id, n); msg != want {
			_ = c.Close()
			return n - from, fmt.Errorf("got %q, want %q", msg, want)
		}
		if n == from+10 {
			going <- struct{}{}
		}
	}
}

// endedCleanly reports whether err is a clear end of a conversation a server shut down:
// its goodbye, the end of the stream, a frame cut short because the grace period ended
// in the middle of a Send, or a reset because the client was still sending.
func endedCleanly(err error) bool {
	return errors.Is(err, sockmsg.ErrCloseKey) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func TestFaultsUnderLoad(t *testing.T) {
	peers := scale(500, 40)
	raiseFileLimit(t, uint64(2*peers+100))
	for _, tr := range streamTransports {
		t.Run(tr.name, func(t *testing.T) {
			checkNoFileLeak(t)
			ctx := testTimeout(t, 2*time.Minute)

			t.Run("context cancelled", func(t *testing.T) {
				// LengthPrefixed, because a handler stopped in the middle of a Send leaves
				// half a frame: Lines framing would hand the peer half a line as a message
				// (an unterminated last line is a message there), this framing an error.
				cfg := &sockmsg.Config{Framing: sockmsg.LengthPrefixed}
				srv := &sockmsg.Server{Handler: numbered, ShutdownGrace: 200 * time.Millisecond}
				s := serve(t, ctx, tr, cfg, srv)
				ends := make(chan error, peers)
				going := make(chan struct{}, peers)
				var total atomic.Int64
				clients := make([]*sockmsg.Conversation, peers)
				for i := range clients {
					clients[i] = s.dial(t, ctx, cfg)
					roundTrip(t, clients[i], fmt.Sprintf("c%d 0", i)) // being served
				}
				for i, c := range clients {
					go func() {
						n, err := streamUntilEnd(c, i, 1, going)
						total.Add(int64(n))
						ends <- err
					}()
				}
				for range peers { // every peer is streaming
					<-going
				}
				stopped := time.Now()
				require.NoError(t, s.stop())
				shutdown := time.Since(stopped)
				for range peers {
					err := <-ends
					assert.True(t, endedCleanly(err), "conversation ended unclearly: %v", err)
				}
				assert.Zero(t, srv.Stats().Active)
				assert.Positive(t, total.Load())
				t.Logf("%s: context cancelled with %d peers streaming: Serve returned in %v (grace 200ms); %d echoes arrived in order, every peer ended with a goodbye, EOF or reset; %+v",
					tr.name, peers, shutdown.Round(time.Millisecond), total.Load(), srv.Stats())
			})

			t.Run("listener closed", func(t *testing.T) {
				srv := &sockmsg.Server{Handler: echo}
				s := serve(t, ctx, tr, nil, srv)
				var wg sync.WaitGroup
				for i := range peers {
					c := s.dial(t, ctx, nil)
					roundTrip(t, c, "in")
					wg.Go(func() {
						for n := range 20 {
							roundTrip(t, c, fmt.Sprintf("c%d %d", i, n))
						}
						assert.NoError(t, c.Close())
					})
				}
				require.NoError(t, s.ln.Close())
				wg.Wait()
				assert.ErrorIs(t, <-s.done, net.ErrClosed, "Serve returns once the last handler has")
				close(s.done)
				assert.Zero(t, srv.Stats().HandlerErrors)
			})
		})
	}
}
