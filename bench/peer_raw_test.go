package bench

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// The raw peers are the limit: the net package with fixed-size messages and
// no framing at all.

var rawTCP = peer{
	name: "raw",
	serve: func(tb testing.TB, size int, handle func(msgConn)) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		t := newTracker(tb, ln.Close)
		acceptLoop(t, ln.Accept, func(c net.Conn) msgConn { return newRawConn(c, size) }, handle)
		return ln.Addr().String()
	},
	dial: func(addr string, size int) (msgConn, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		return newRawConn(c, size), nil
	},
	idle: true,
}

// rawConn sends each message with one Write and reads exactly size bytes per
// message through a default-sized bufio.Reader. SendBatch goes through a
// 64 KiB bufio.Writer and flushes at the end of the batch.
type rawConn struct {
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	size int
}

func newRawConn(c net.Conn, size int) *rawConn {
	return &rawConn{c: c, br: bufio.NewReader(c), size: size}
}

func (r *rawConn) Send(msg []byte) error {
	_, err := r.c.Write(msg)
	return err
}

func (r *rawConn) SendBatch(msgs [][]byte) error {
	if r.bw == nil {
		r.bw = bufio.NewWriterSize(r.c, 64<<10)
	}
	for _, m := range msgs {
		if _, err := r.bw.Write(m); err != nil {
			return err
		}
	}
	return r.bw.Flush()
}

func (r *rawConn) Recv(buf []byte) ([]byte, error) {
	buf = grow(buf, r.size)
	_, err := io.ReadFull(r.br, buf)
	return buf, err
}

func (r *rawConn) Close() error { return r.c.Close() }

var rawUDP = peer{
	name: "raw",
	udp:  true,
	// One socket serves the one client: it answers whoever wrote last.
	serve: func(tb testing.TB, size int, handle func(msgConn)) string {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		t := newTracker(tb, c.Close)
		s := &rawUDPServer{c: c, size: size}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.handle(s, handle)
		}()
		return c.LocalAddr().String()
	},
	dial: dialUDP,
}

// dialUDP is the client of every UDP peer: a connected *net.UDPConn.
func dialUDP(addr string, size int) (msgConn, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	return &netConn{c: c, size: datagramBuf(size)}, nil
}

// netConn treats each Read of a net.Conn as one message: datagram sockets.
type netConn struct {
	c    net.Conn
	size int
}

func (n *netConn) Send(msg []byte) error {
	_, err := n.c.Write(msg)
	return err
}

func (n *netConn) Recv(buf []byte) ([]byte, error) {
	buf = grow(buf, n.size)
	k, err := n.c.Read(buf)
	return buf[:k], err
}

func (n *netConn) Close() error { return n.c.Close() }

func (n *netConn) SetReadDeadline(t time.Time) error { return n.c.SetReadDeadline(t) }

// rawUDPServer is an unconnected socket that replies to the last sender.
type rawUDPServer struct {
	c    *net.UDPConn
	peer netip.AddrPort
	size int
}

func (s *rawUDPServer) Send(msg []byte) error {
	_, err := s.c.WriteToUDPAddrPort(msg, s.peer)
	return err
}

func (s *rawUDPServer) Recv(buf []byte) ([]byte, error) {
	buf = grow(buf, datagramBuf(s.size))
	n, from, err := s.c.ReadFromUDPAddrPort(buf)
	if err == nil {
		s.peer = from
	}
	return buf[:n], err
}

func (s *rawUDPServer) Close() error { return s.c.Close() }

func (s *rawUDPServer) SetReadDeadline(t time.Time) error { return s.c.SetReadDeadline(t) }
