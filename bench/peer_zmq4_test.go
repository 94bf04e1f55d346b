package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/go-zeromq/zmq4"
)

// zmq4 has no per-conversation object on the server: a PAIR socket talks to
// exactly one peer, so serve hands its one listening socket to handle; many
// clients go through ROUTER/DEALER (echoServe/echoDial). IdleConversations is
// not run for it for the same reason.
var zmq4Peer = peer{
	name: "zmq4",
	serve: func(tb testing.TB, size int, handle func(msgConn)) string {
		s := zmq4.NewPair(context.Background())
		addr := zmq4Listen(tb, s)
		t := newTracker(tb, s.Close)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.handle(zmq4Conn{s}, handle)
		}()
		return addr
	},
	dial: func(addr string, size int) (msgConn, error) {
		return zmq4Dial(zmq4.NewPair(context.Background()), addr)
	},
	echoServe: func(tb testing.TB, size int) string {
		s := zmq4.NewRouter(context.Background())
		addr := zmq4Listen(tb, s)
		t := newTracker(tb, s.Close)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			for {
				m, err := s.Recv() // Frames: identity, payload
				if err != nil {
					return
				}
				if err := s.Send(m); err != nil {
					return
				}
			}
		}()
		return addr
	},
	echoDial: func(addr string, size int) (msgConn, error) {
		id := fmt.Sprintf("dealer-%d", zmq4IDs.Add(1))
		return zmq4Dial(zmq4.NewDealer(context.Background(), zmq4.WithID(zmq4.SocketIdentity(id))), addr)
	},
}

// zmq4IDs numbers DEALER identities: the ROUTER routes replies by identity.
var zmq4IDs atomic.Int64

func zmq4Listen(tb testing.TB, s zmq4.Socket) string {
	if err := s.Listen("tcp://127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	return s.Addr().String()
}

func zmq4Dial(s zmq4.Socket, addr string) (msgConn, error) {
	if err := s.Dial("tcp://" + addr); err != nil {
		_ = s.Close()
		return nil, err
	}
	return zmq4Conn{s}, nil
}

// zmq4Conn sends one single-frame message per Send; Recv returns the frame
// zmq4 allocated (it has no way to read into a caller's buffer).
type zmq4Conn struct{ s zmq4.Socket }

func (z zmq4Conn) Send(msg []byte) error { return z.s.Send(zmq4.NewMsg(msg)) }

func (z zmq4Conn) Recv(buf []byte) ([]byte, error) {
	m, err := z.s.Recv()
	if err != nil {
		return buf[:0], err
	}
	if len(m.Frames) != 1 {
		return buf[:0], fmt.Errorf("zmq4: %d frames, want 1", len(m.Frames))
	}
	return m.Frames[0], nil
}

func (z zmq4Conn) Close() error { return z.s.Close() }
