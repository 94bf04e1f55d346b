package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// A scenario sets up its connections (untimed) and returns the part to time:
// exchange n messages and report what the receiving side counted.
type scenario func(tb testing.TB, p peer, o opts) func(n int) result

// opts are a scenario's parameters.
type opts struct {
	size    int  // message size in bytes
	clients int  // EchoServer: concurrent clients
	full    bool // check every byte of every message, not only length and sequence
}

// result is what the receiving side counted.
type result struct {
	msgs, bytes int64     // messages and bytes delivered intact
	sent        int64     // messages sent (UDP, for loss)
	last        time.Time // when the last message arrived (UDP stream)
	err         error     // the first send, receive or content failure
}

// ---- messages: each carries its sequence number; the rest is a pattern.

const seqLen = 8

func newMsg(size int) []byte {
	m := make([]byte, size)
	for i := range m {
		m[i] = 'a' + byte(i%26)
	}
	return m
}

// stamp writes sequence number i into msg.
func stamp(msg []byte, i int) {
	if len(msg) >= seqLen {
		binary.BigEndian.PutUint64(msg, uint64(i))
	}
}

// check reports whether msg is message i of size bytes; with full it compares
// every byte, otherwise only the length and the sequence number.
func check(msg []byte, i, size int, full bool) error {
	if len(msg) != size {
		return fmt.Errorf("message %d: %d bytes, want %d", i, len(msg), size)
	}
	if size >= seqLen {
		if got := binary.BigEndian.Uint64(msg); got != uint64(i) {
			return fmt.Errorf("message %d: sequence number %d", i, got)
		}
	}
	if full {
		want := newMsg(size)
		stamp(want, i)
		if !bytes.Equal(msg, want) {
			return fmt.Errorf("message %d: content differs", i)
		}
	}
	return nil
}

// ---- connecting

// connect opens one conversation with p and returns both ends. For datagram
// peers the client's first message ("hello") opens it on the server.
func connect(tb testing.TB, p peer, size int) (client, server msgConn) {
	accepted := make(chan msgConn, 1)
	done := make(chan struct{})
	addr := p.serve(tb, size, func(c msgConn) {
		accepted <- c
		<-done // keep the conversation open until the test ends
	})
	tb.Cleanup(func() { close(done) })
	client, err := p.dial(addr, size)
	if err != nil {
		tb.Fatalf("%s: dial: %v", p.name, err)
	}
	tb.Cleanup(func() { _ = client.Close() })
	if p.udp {
		if err := client.Send([]byte("hello")); err != nil {
			tb.Fatalf("%s: hello: %v", p.name, err)
		}
	}
	select {
	case server = <-accepted:
	case <-time.After(10 * time.Second):
		tb.Fatalf("%s: no conversation accepted", p.name)
	}
	if p.udp {
		if m, err := server.Recv(nil); err != nil || string(m) != "hello" {
			tb.Fatalf("%s: hello arrived as %q, %v", p.name, m, err)
		}
	}
	return client, server
}

// echo answers every message with itself until the conversation ends.
func echo(c msgConn) {
	var buf []byte
	for {
		m, err := c.Recv(buf[:0])
		if err != nil {
			return
		}
		buf = m
		if err := c.Send(m); err != nil {
			return
		}
	}
}

// ---- the scenarios

// pingPong: one client sends a message and waits for it to come back.
func pingPong(tb testing.TB, p peer, o opts) func(n int) result {
	client, server := connect(tb, p, o.size)
	go echo(server)
	return func(n int) result {
		var r result
		roundTrips(client, 0, n, o, &r)
		return r
	}
}

// roundTrips does n ping-pongs, numbered from first, and adds them to r.
func roundTrips(c msgConn, first, n int, o opts, r *result) {
	msg := newMsg(o.size)
	var buf []byte
	for i := first; i < first+n; i++ {
		stamp(msg, i)
		if err := c.Send(msg); err != nil {
			r.err = fmt.Errorf("send %d: %w", i, err)
			return
		}
		var ok bool
		if buf, ok = r.take(c, buf, i, o); !ok {
			return
		}
	}
}

// take receives message i on c into buf, checks it and counts it; on a
// failure it records the error and reports false.
func (r *result) take(c msgConn, buf []byte, i int, o opts) ([]byte, bool) {
	m, err := c.Recv(buf[:0])
	if err != nil {
		r.err = fmt.Errorf("receive %d: %w", i, err)
		return buf, false
	}
	if err := check(m, i, o.size, o.full); err != nil {
		r.err = err
		return m, false
	}
	r.msgs++
	r.bytes += int64(len(m))
	return m, true
}

// sendAll sends messages 0..n-1, one Send each.
func sendAll(c msgConn, n, size int) error {
	msg := newMsg(size)
	for i := range n {
		stamp(msg, i)
		if err := c.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

// echoServer: o.clients clients do ping-pong against one server, together
// n round trips.
func echoServer(tb testing.TB, p peer, o opts) func(n int) result {
	serve, dial := p.echoServe, p.echoDial
	if serve == nil {
		serve = func(tb testing.TB, size int) string { return p.serve(tb, size, echo) }
		dial = p.dial
	}
	addr := serve(tb, o.size)
	clients := make([]msgConn, o.clients)
	for i := range clients {
		c, err := dial(addr, o.size)
		if err != nil {
			tb.Fatalf("%s: dial client %d: %v", p.name, i, err)
		}
		tb.Cleanup(func() { _ = c.Close() })
		clients[i] = c
	}
	return func(n int) result {
		results := make([]result, len(clients))
		var wg sync.WaitGroup
		for i, c := range clients {
			share := n / len(clients)
			if i < n%len(clients) {
				share++
			}
			wg.Go(func() { roundTrips(c, 0, share, o, &results[i]) })
		}
		wg.Wait()
		var total result
		for _, r := range results {
			total.msgs += r.msgs
			total.bytes += r.bytes
			if total.err == nil {
				total.err = r.err
			}
		}
		return total
	}
}

// stream: one-way, one Send per message; the server counts what arrives.
func stream(tb testing.TB, p peer, o opts) func(n int) result {
	client, server := connect(tb, p, o.size)
	return func(n int) result {
		got := receive(server, n, o)
		err := sendAll(client, n, o.size)
		return finish(<-got, err)
	}
}

// batchSize is how many messages streamBatch hands to SendBatch at once:
// 64 KiB of 64-byte messages, one raw bufio.Writer's worth.
const batchSize = 1024

// streamBatch: one-way through the peer's batching path (SendBatch).
func streamBatch(tb testing.TB, p peer, o opts) func(n int) result {
	client, server := connect(tb, p, o.size)
	bs, ok := client.(batchSender)
	if !ok {
		tb.Skipf("%s has no batching send", p.name)
	}
	batch := make([][]byte, batchSize)
	for i := range batch {
		batch[i] = newMsg(o.size)
	}
	return func(n int) result {
		got := receive(server, n, o)
		var err error
		for i := 0; i < n && err == nil; i += batchSize {
			k := min(batchSize, n-i)
			for j := range k {
				stamp(batch[j], i+j)
			}
			err = bs.SendBatch(batch[:k])
		}
		return finish(<-got, err)
	}
}

// receive counts n messages on c in a new goroutine. On a failure it closes c,
// so that a sender blocked on a full socket fails too instead of hanging.
func receive(c msgConn, n int, o opts) <-chan result {
	got := make(chan result, 1)
	go func() {
		var r result
		var buf []byte
		for i := 0; i < n; i++ {
			var ok bool
			if buf, ok = r.take(c, buf, i, o); !ok {
				break
			}
		}
		if r.err != nil {
			_ = c.Close()
		}
		got <- r
	}()
	return got
}

func finish(r result, sendErr error) result {
	if sendErr != nil && r.err == nil {
		r.err = fmt.Errorf("send: %w", sendErr)
	}
	return r
}

// udpDrain is how long the UDP stream receiver waits, once the sender is
// done, for datagrams still in flight.
const udpDrain = 100 * time.Millisecond

type readDeadliner interface{ SetReadDeadline(time.Time) error }

// udpStream: one-way datagrams as fast as the sender can write; the receiver
// counts what arrives, the rest is loss. Datagrams may also arrive out of
// order, so only their size (and with full, their pattern) is checked.
func udpStream(tb testing.TB, p peer, o opts) func(n int) result {
	client, server := connect(tb, p, o.size)
	d, ok := server.(readDeadliner)
	if !ok {
		tb.Fatalf("%s: the server conversation has no SetReadDeadline", p.name)
	}
	return func(n int) result {
		got := make(chan result, 1)
		go func() {
			var r result
			var buf []byte
			for r.msgs < int64(n) {
				m, err := server.Recv(buf[:0])
				if err != nil {
					if !isTimeout(err) {
						r.err = fmt.Errorf("receive: %w", err)
					}
					break
				}
				buf = m
				if len(m) != o.size || (o.full && !bytes.Equal(m[seqLen:], newMsg(o.size)[seqLen:])) {
					r.err = fmt.Errorf("datagram %d: %d bytes or content differs", r.msgs, len(m))
					break
				}
				r.msgs++
				r.bytes += int64(len(m))
				r.last = time.Now()
			}
			got <- r
		}()
		err := sendAll(client, n, o.size)
		if derr := d.SetReadDeadline(time.Now().Add(udpDrain)); derr != nil && err == nil {
			err = derr
		}
		r := finish(<-got, err)
		r.sent = int64(n)
		return r
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
