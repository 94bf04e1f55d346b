package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
)

// sockmsg on TCP: LengthPrefixed framing (the payloads are binary) and
// otherwise the defaults; Send per message, AppendRecv into the reused
// buffer, SendBatch for bursts.
var sockmsgTCP = peer{
	name: "sockmsg",
	serve: func(tb testing.TB, size int, handle func(msgConn)) string {
		return sockmsgServe(tb, "tcp", sockmsgConfig(sockmsg.LengthPrefixed, size), handle)
	},
	dial: func(addr string, size int) (msgConn, error) {
		return sockmsgDial("tcp", addr, sockmsgConfig(sockmsg.LengthPrefixed, size))
	},
	idle: true,
}

// sockmsg on UDP: its demultiplexing listener, datagram framing. Until the
// library has the udp transport these benchmarks skip.
var sockmsgUDP = peer{
	name: "sockmsg",
	udp:  true,
	serve: func(tb testing.TB, size int, handle func(msgConn)) string {
		return sockmsgServe(tb, "udp", sockmsgConfig(sockmsg.Datagram, size), handle)
	},
	dial: func(addr string, size int) (msgConn, error) {
		return sockmsgDial("udp", addr, sockmsgConfig(sockmsg.Datagram, size))
	},
}

// sockmsg on UDP with Config.ConnectedPeers: the listener still demultiplexes new
// peers, then gives each its own connected socket, so Recv reads it directly.
var sockmsgUDPConnected = peer{
	name: "sockmsg-connected",
	udp:  true,
	serve: func(tb testing.TB, size int, handle func(msgConn)) string {
		cfg := sockmsgConfig(sockmsg.Datagram, size)
		cfg.ConnectedPeers = true
		return sockmsgServe(tb, "udp", cfg, handle)
	},
	dial: sockmsgUDP.dial,
}

func sockmsgConfig(f sockmsg.Framing, size int) *sockmsg.Config {
	// Defaults otherwise, close keys included: what a program gets unless it
	// opts out (the check costs about 10 ns a message; see BENCHMARKS.md).
	cfg := &sockmsg.Config{Framing: f}
	if size > sockmsg.DefaultMaxMessageSize {
		cfg.MaxMessageSize = size
	}
	return cfg
}

func sockmsgServe(tb testing.TB, network string, cfg *sockmsg.Config, handle func(msgConn)) string {
	ln, err := cfg.Listen(context.Background(), network, "127.0.0.1:0")
	if errors.Is(err, sockmsg.ErrUnsupportedNetwork) {
		tb.Skipf("sockmsg has no %s transport yet: %v", network, err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	t := newTracker(tb, ln.Close)
	acceptLoop(t, ln.Accept, func(c *sockmsg.Conversation) msgConn { return sockmsgConn{c} }, handle)
	return ln.Addr().String()
}

func sockmsgDial(network, addr string, cfg *sockmsg.Config) (msgConn, error) {
	c, err := cfg.Dial(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	return sockmsgConn{c}, nil
}

type sockmsgConn struct{ c *sockmsg.Conversation }

func (s sockmsgConn) Send(msg []byte) error { return s.c.Send(msg) }

func (s sockmsgConn) SendBatch(msgs [][]byte) error {
	_, err := s.c.SendBatch(msgs)
	return err
}

func (s sockmsgConn) Recv(buf []byte) ([]byte, error) { return s.c.AppendRecv(buf[:0]) }

func (s sockmsgConn) Close() error { return s.c.Close() }

func (s sockmsgConn) SetReadDeadline(t time.Time) error { return s.c.SetReadDeadline(t) }
