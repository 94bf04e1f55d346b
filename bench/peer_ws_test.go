package bench

import (
	"context"
	"net"
	"net/http"
	"testing"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
)

// serveHTTP runs an HTTP server on 127.0.0.1:0 whose handler upgrades each
// request with upgrade and then runs handle in the handler's own goroutine:
// the server shape both websocket libraries document.
func serveHTTP(tb testing.TB, upgrade func(w http.ResponseWriter, r *http.Request) (msgConn, error), handle func(msgConn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var t *tracker
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrade(w, r)
		if err != nil {
			return
		}
		t.handle(c, handle)
	})}
	t = newTracker(tb, srv.Close)
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String()
}

var gorillaPeer = peer{
	name: "gorilla",
	serve: func(tb testing.TB, size int, handle func(msgConn)) string {
		var up websocket.Upgrader
		return serveHTTP(tb, func(w http.ResponseWriter, r *http.Request) (msgConn, error) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return nil, err
			}
			return gorillaConn{c}, nil
		}, handle)
	},
	dial: func(addr string, size int) (msgConn, error) {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr, nil)
		if err != nil {
			return nil, err
		}
		return gorillaConn{c}, nil
	},
	idle: true,
}

// gorillaConn sends with WriteMessage and reads through NextReader into the
// caller's buffer (ReadMessage would allocate every message).
type gorillaConn struct{ c *websocket.Conn }

func (g gorillaConn) Send(msg []byte) error { return g.c.WriteMessage(websocket.BinaryMessage, msg) }

func (g gorillaConn) Recv(buf []byte) ([]byte, error) {
	_, r, err := g.c.NextReader()
	if err != nil {
		return buf[:0], err
	}
	return readAllInto(r, buf)
}

func (g gorillaConn) Close() error { return g.c.Close() }

var coderPeer = peer{
	name: "coder",
	serve: func(tb testing.TB, size int, handle func(msgConn)) string {
		return serveHTTP(tb, func(w http.ResponseWriter, r *http.Request) (msgConn, error) {
			c, err := coder.Accept(w, r, nil)
			if err != nil {
				return nil, err
			}
			return newCoderConn(c, size), nil
		}, handle)
	},
	dial: func(addr string, size int) (msgConn, error) {
		c, _, err := coder.Dial(context.Background(), "ws://"+addr, nil)
		if err != nil {
			return nil, err
		}
		return newCoderConn(c, size), nil
	},
	idle: true,
}

// coderConn sends with Write and reads through Reader into the caller's buffer.
type coderConn struct{ c *coder.Conn }

func newCoderConn(c *coder.Conn, size int) coderConn {
	if size > 32<<10 { // the default read limit is 32 KiB
		c.SetReadLimit(int64(size))
	}
	return coderConn{c}
}

func (c coderConn) Send(msg []byte) error {
	return c.c.Write(context.Background(), coder.MessageBinary, msg)
}

func (c coderConn) Recv(buf []byte) ([]byte, error) {
	_, r, err := c.c.Reader(context.Background())
	if err != nil {
		return buf[:0], err
	}
	return readAllInto(r, buf)
}

// Close drops the connection without the closing handshake, which would wait
// for a peer that may no longer read.
func (c coderConn) Close() error { return c.c.CloseNow() }
