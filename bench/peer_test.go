package bench

import (
	"io"
	"sync"
	"testing"
)

// msgConn is one end of a message connection, driven the way its library's
// documentation shows.
type msgConn interface {
	// Send sends one message.
	Send(msg []byte) error
	// Recv returns the next message; it may use buf's storage (pass buf[:0]
	// of the previous result to reuse it).
	Recv(buf []byte) ([]byte, error)
	Close() error
}

// batchSender is a msgConn with a way to send many messages at once: the
// library's fastest path for a burst (buffered writes with explicit flush,
// writev, ...).
type batchSender interface {
	SendBatch(msgs [][]byte) error
}

// peer is one library under test, on one network.
type peer struct {
	name string
	udp  bool // datagrams: the first message from a client opens the conversation
	// serve starts a server on 127.0.0.1:0 that runs handle once per
	// conversation, and returns the address to dial. Stopped by tb.Cleanup.
	serve func(tb testing.TB, size int, handle func(msgConn)) string
	// dial opens a client conversation to addr for messages of up to size bytes.
	dial func(addr string, size int) (msgConn, error)
	// echoServe, if set, replaces the generic echo server (serve plus an echo
	// handler) for EchoServer64x64, and echoDial its clients.
	echoServe func(tb testing.TB, size int) string
	echoDial  func(addr string, size int) (msgConn, error)
	// idle: the peer can hold IdleConversations (one handler per conversation).
	idle bool
}

// tracker owns a server's conversations: it closes each one when its handler
// returns, and all of them (then waits for the handlers) when the server stops.
type tracker struct {
	mu     sync.Mutex
	conns  map[msgConn]struct{}
	wg     sync.WaitGroup
	closed bool
}

func newTracker(tb testing.TB, stop func() error) *tracker {
	t := &tracker{conns: make(map[msgConn]struct{})}
	tb.Cleanup(func() {
		_ = stop()
		t.close()
	})
	return t
}

// handle runs h(c) in the calling goroutine and closes c afterwards.
func (t *tracker) handle(c msgConn, h func(msgConn)) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = c.Close()
		return
	}
	t.conns[c] = struct{}{}
	t.wg.Add(1)
	t.mu.Unlock()
	defer t.wg.Done()
	h(c)
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	_ = c.Close()
}

func (t *tracker) close() {
	t.mu.Lock()
	t.closed = true
	for c := range t.conns {
		_ = c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// acceptLoop accepts conversations until accept fails (the listener closed),
// running handle on each, wrapped, in its own goroutine.
func acceptLoop[C any](t *tracker, accept func() (C, error), wrap func(C) msgConn, handle func(msgConn)) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for {
			c, err := accept()
			if err != nil {
				return
			}
			go t.handle(wrap(c), handle)
		}
	}()
}

// grow returns buf[:n], reallocating only when buf is too small.
func grow(buf []byte, n int) []byte {
	if cap(buf) < n {
		return make([]byte, n)
	}
	return buf[:n]
}

// readAllInto reads r to EOF into buf[:0], growing it as needed: io.ReadAll
// without the allocation when buf is already large enough.
func readAllInto(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// datagramBuf is the receive buffer size for datagram peers.
func datagramBuf(size int) int { return max(size, 2048) }
