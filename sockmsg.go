package sockmsg

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// DefaultMaxMessageSize is the largest message a stream conversation sends or receives
// unless [Config.MaxMessageSize] says otherwise: 64 KiB.
const DefaultMaxMessageSize = 64 << 10

// Config holds the options of the conversations that [Config.Dial], [Config.Listen] and
// [Config.NewConversation] make. A nil *Config, and the zero value of every field, mean
// the defaults. The Config is read, never changed, and may be reused.
type Config struct {
	// Framing is how messages are cut from the byte stream.
	// Default: Lines on streams, Datagram on packet networks.
	Framing Framing

	// MaxMessageSize is the largest message, in bytes, that Send accepts and Recv
	// delivers. A received frame over the limit is refused before it is buffered and ends
	// the conversation with a [MessageSizeError]. With Raw framing it is the read size.
	// Default (0): DefaultMaxMessageSize. Negative values are refused.
	MaxMessageSize int

	// CloseKeys are the messages that mean goodbye. Default (nil): [DefaultCloseKeys].
	CloseKeys []string

	// DisableCloseKeys turns close-key detection off: every message is delivered as it
	// is, and Goodbye only closes. Default: false.
	DisableCloseKeys bool

	// TLS, when set, encrypts stream conversations: Dial runs the client side of the
	// handshake (bounded by its ctx) and Listen the server side, lazily on the first
	// Send or Recv, or in [Server.Serve] under a time limit, never inside Accept. The
	// Config is cloned, never changed; its MinVersion is raised to TLS 1.2 when lower. A
	// listener needs Certificates (or GetCertificate); set ClientAuth and ClientCAs to
	// verify clients (mutual TLS). Packet networks refuse it, and NewConversation ignores
	// it (hand that a *tls.Conn). See [Conversation.TLS]. Default (nil): plaintext.
	TLS *tls.Config

	// IdleTimeout ends a server-side UDP or unixgram conversation whose peer has sent
	// nothing for this long: datagrams already queued are still delivered, then Recv
	// returns an error matching [ErrIdleTimeout], and the peer's next datagram starts a
	// new conversation. Datagram networks have no end of stream, so without it a peer
	// that vanishes holds its conversation forever. Default (0): [DefaultIdleTimeout].
	// Negative: never. Ignored on streams and by Dial.
	IdleTimeout time.Duration

	// Backlog is how many new UDP or unixgram peers may wait for Accept. A first
	// datagram from a new peer while the backlog is full is dropped and counted in
	// [ListenerStats].Dropped. Default (0): [DefaultBacklog]. Ignored on streams.
	Backlog int

	// PeerQueue is how many datagrams a server-side UDP or unixgram conversation holds
	// until Recv takes them. A datagram that finds the queue full is dropped and counted
	// in [ConversationStats].Dropped, and so is one that would take the queues of all of
	// a listener's conversations past 64 MiB together. Default (0): [DefaultPeerQueue].
	// Ignored on streams.
	PeerQueue int

	// ConnectedPeers gives every server-side UDP conversation a socket of its own, which
	// makes Recv read its peer's datagrams straight from the system. Without it, the
	// conversations share the listener's socket, and with many busy peers most datagrams
	// are read by one goroutine and passed to the one in Recv. The
	// listening socket is opened with SO_REUSEADDR and SO_REUSEPORT, and for each new
	// peer the listener opens a socket bound to its own address and connected to the
	// peer, which the system then prefers for that peer's datagrams. Datagrams that
	// reached the listener before the connection are still delivered first.
	//
	// The cost: one file descriptor per open conversation, and, with SO_REUSEPORT, any
	// other socket of the same user may bind the listener's port too. When a peer's
	// socket cannot be opened (out of file descriptors, say), that conversation falls
	// back to the listener's queue silently. PeerQueue then only bounds the datagrams
	// that came before the connection; the system's receive buffer holds the rest, and
	// what it drops is counted in [ConversationStats].Dropped. Closing the conversation
	// closes its socket: the peer's next datagram reaches the listener and starts a new
	// conversation; IdleTimeout works as without it. As a conversation ends, its socket
	// is first connected away from the peer, then what already waits on it is handed on:
	// after an idle timeout Recv still delivers it, as without ConnectedPeers, so a
	// datagram that arrives in the instant of ending is not lost.
	//
	// Linux only: elsewhere it is ignored (the conversations work as without it).
	// Refused with [ErrInvalidConfig] on unixgram; ignored on streams and by Dial.
	// Default: false.
	ConnectedPeers bool
}

// settings is a Config resolved for one network.
type settings struct {
	network string
	framing Framing
	limit   int
	keys    *keySet
	tls     *tls.Config // a clone with MinVersion at least TLS 1.2, or nil
	udp     udpSettings // packet networks only
}

func (c *Config) resolve(network string) (settings, error) {
	var cfg Config
	if c != nil {
		cfg = *c
	}
	packet, err := isPacketNetwork(network)
	if err != nil {
		return settings{}, err
	}
	s := settings{network: network, framing: cfg.Framing, limit: cfg.MaxMessageSize}
	switch {
	case s.framing == DefaultFraming && packet:
		s.framing = Datagram
	case s.framing == DefaultFraming:
		s.framing = Lines
	case s.framing < DefaultFraming || s.framing > Datagram:
		return settings{}, fmt.Errorf("%w: unknown framing %d", ErrInvalidConfig, int(s.framing))
	case packet && s.framing != Datagram:
		return settings{}, fmt.Errorf("%w: %s framing cannot be used on %q: a datagram is already one message; use Datagram (or leave Framing unset)", ErrInvalidConfig, s.framing, network)
	case !packet && s.framing == Datagram:
		return settings{}, fmt.Errorf("%w: Datagram framing needs a packet network (udp, udp4, udp6, unixgram), not %q; use Lines, LengthPrefixed or Raw", ErrInvalidConfig, network)
	}
	switch {
	case s.limit < 0:
		return settings{}, fmt.Errorf("%w: MaxMessageSize is %d; it must be positive, or 0 for the default", ErrInvalidConfig, s.limit)
	case s.limit == 0 && packet:
		s.limit = defaultDatagramSize(network)
	case s.limit == 0:
		s.limit = DefaultMaxMessageSize
	case s.framing == LengthPrefixed && uint64(s.limit) > 1<<32-1:
		return settings{}, fmt.Errorf("%w: MaxMessageSize %d does not fit the 4-byte length header", ErrInvalidConfig, s.limit)
	}
	if s.tls, err = resolveTLS(cfg.TLS, network, packet); err != nil {
		return settings{}, err
	}
	if packet {
		if s.udp, err = resolveUDP(&cfg, network); err != nil {
			return settings{}, err
		}
	}
	switch {
	case cfg.DisableCloseKeys:
		s.keys = nil
	case cfg.CloseKeys == nil:
		s.keys = defaultKeySet
	default:
		s.keys = newKeySet(cfg.CloseKeys)
	}
	return s, nil
}

// Dial connects to the address on the named network with the default [Config]. See
// [Config.Dial].
func Dial(network, address string) (*Conversation, error) {
	return (*Config)(nil).Dial(context.Background(), network, address)
}

// DialContext is [Dial] bounded by ctx: a context that ends before the connection is
// made stops the attempt. Once connected, ctx no longer matters.
func DialContext(ctx context.Context, network, address string) (*Conversation, error) {
	return (*Config)(nil).Dial(ctx, network, address)
}

// Listen announces on the local address with the default [Config]. See [Config.Listen].
func Listen(network, address string) (*Listener, error) {
	return (*Config)(nil).Listen(context.Background(), network, address)
}

// Dial connects to the address on the named network and returns a conversation with
// that peer. It is the client's socket() and connect() in one call. Networks are named
// as in [net.Dial]: "tcp", "tcp4", "tcp6" and "unix" for streams, "udp", "udp4", "udp6"
// and "unixgram" for datagrams. Addresses are "host:port" for IP networks and a file
// path for unix networks. ctx bounds the dialling only.
func (c *Config) Dial(ctx context.Context, network, address string) (*Conversation, error) {
	s, err := c.resolve(network)
	if err != nil {
		return nil, err
	}
	conn, err := s.dial(ctx, address)
	if err != nil {
		return nil, wrapErr("dial", err)
	}
	return newConversation(conn, s), nil
}

// Listen announces on the local address and returns a [Listener] whose Accept hands out
// conversations. It is the server's socket(), bind() and listen() in one call. Networks
// and addresses are as in [Config.Dial]; a port of 0 ("127.0.0.1:0") picks a free port,
// which [Listener.Addr] then reports. ctx bounds the set-up only.
func (c *Config) Listen(ctx context.Context, network, address string) (*Listener, error) {
	s, err := c.resolve(network)
	if err != nil {
		return nil, err
	}
	ln, err := s.listen(ctx, address)
	if err != nil {
		return nil, wrapErr("listen", err)
	}
	return &Listener{ln: ln, settings: s}, nil
}

// NewConversation makes a conversation over a connection the caller already has, such
// as a *tls.Conn or one end of [net.Pipe]. Its network is conn.LocalAddr().Network();
// "udp" and "unixgram" connections get Datagram framing, everything else is a stream.
// The conversation owns conn from now on and closes it on Close.
func (c *Config) NewConversation(conn net.Conn) (*Conversation, error) {
	network := "tcp"
	if a := conn.LocalAddr(); a != nil {
		if n := a.Network(); n == "udp" || n == "unixgram" || n == "unix" {
			network = n
		}
	}
	s, err := c.resolve(network)
	if err != nil {
		return nil, err
	}
	return newConversation(conn, s), nil
}

// streamNetworks and packetNetworks are the networks sockmsg opens.
var (
	streamNetworks = []string{"tcp", "tcp4", "tcp6", "unix"}
	packetNetworks = []string{"udp", "udp4", "udp6", "unixgram"}
)

func supportedNetworks() []string {
	return append(append([]string(nil), streamNetworks...), packetNetworks...)
}

func isPacketNetwork(network string) (bool, error) {
	for _, n := range streamNetworks {
		if n == network {
			return false, nil
		}
	}
	for _, n := range packetNetworks {
		if n == network {
			return true, nil
		}
	}
	return false, &NetworkError{Network: network}
}

func (s settings) dial(ctx context.Context, address string) (net.Conn, error) {
	if s.framing == Datagram {
		return dialPacket(ctx, s, address)
	}
	return dialStream(ctx, s, address)
}

func (s settings) listen(ctx context.Context, address string) (acceptor, error) {
	if s.framing == Datagram {
		return listenPacket(ctx, s, address)
	}
	return listenStream(ctx, s, address)
}

// acceptor is what a Listener accepts from: a *net.TCPListener, a *net.UnixListener, or
// the UDP demultiplexer.
type acceptor interface {
	Accept() (net.Conn, error)
	Addr() net.Addr
	Close() error
	SetDeadline(t time.Time) error
}

// Listener hands out a [Conversation] for every peer that connects. It has no Send or
// Recv: a server talks through the conversations Accept returns, never through the
// listening socket. All its methods are safe for concurrent use.
type Listener struct {
	ln       acceptor
	settings settings
	acceptMu sync.Mutex // one Accept at a time, so a context can bound it with a deadline
	closed   atomic.Bool
	counters listenerCounters
}

// Accept waits for the next peer and returns a conversation with it. Close unblocks it.
func (l *Listener) Accept() (*Conversation, error) {
	return l.AcceptContext(context.Background())
}

// AcceptContext is [Listener.Accept] bounded by ctx: when ctx ends it returns ctx's error
// (wrapped), and the listener stays open for the next call.
func (l *Listener) AcceptContext(ctx context.Context) (*Conversation, error) {
	l.acceptMu.Lock()
	defer l.acceptMu.Unlock()
	if l.closed.Load() {
		return nil, wrapErr("accept", net.ErrClosed)
	}
	unbind, err := bindContext(ctx, "accept", l.ln.SetDeadline, func() time.Time { return time.Time{} })
	if err != nil {
		return nil, err
	}
	conn, err := l.ln.Accept()
	if err = unbind(err); err != nil {
		return nil, wrapErr("accept", err)
	}
	c := newConversation(conn, l.settings)
	l.counters.accepted.Add(1)
	l.counters.open.Add(1)
	c.onClose = func() { l.counters.open.Add(-1) }
	return c, nil
}

// Addr returns the address the listener listens on, with the port it was given.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops listening and unblocks Accept. Conversations already accepted go on (for
// UDP, see the package doc). A second Close returns an error matching [net.ErrClosed].
func (l *Listener) Close() error {
	if l.closed.Swap(true) {
		return wrapErr("close", net.ErrClosed)
	}
	return wrapErr("close", l.ln.Close())
}

// Conversation is an exchange of whole messages with one peer.
//
// All methods are safe for concurrent use: concurrent Sends, and concurrent Recvs, are
// serialised so that messages never interleave, and Close unblocks a blocked Send or Recv.
type Conversation struct {
	conn net.Conn
	settings

	sendMu  sync.Mutex
	sendErr error                  // sticky: a Send was cut off mid-message
	wbuf    []byte                 // small frames are assembled here and written at once
	iov     [2][]byte              // large frames: header and payload for one writev
	wv      net.Buffers            // points into iov while writing
	hdr     [lengthHeaderSize]byte // LengthPrefixed header of a large frame

	recvMu  sync.Mutex
	recvErr error  // sticky: the peer left, said goodbye, or broke the framing
	rbuf    []byte // bytes read but not yet delivered are rbuf[r:w]
	small   []byte // the buffer rbuf starts with, and returns to when a larger one drains
	r, w    int
	filled  bool // the last read filled rbuf: the peer may have more ready
	frame   int  // the size on the wire of the last message delivered
	eof     bool

	closed   atomic.Bool
	onClose  func() // run once by Close, if set
	counters convCounters

	dlMu    sync.Mutex // guards the deadlines the program set
	readDL  time.Time
	writeDL time.Time

	// Per-call time limits that [Server] sets before its handler runs (0: none), and the
	// deadlines they give the Recv or Send in progress (guarded by dlMu).
	recvTimeout, sendTimeout time.Duration
	callReadDL, callWriteDL  time.Time
}

// smallFrame is the frame size up to which Send copies into one buffer and makes one
// write; larger frames are written with writev straight from the caller's slice.
const smallFrame = 4 << 10

// initialReadBuffer is the read buffer a stream conversation starts with. It grows when
// a message needs more (up to the maximum message size) and when reads keep filling it
// (up to streamReadBuffer), and the conversation falls back to it once it has delivered
// all it read, unless the peer seems to be streaming (see fill).
const (
	initialReadBuffer = 4 << 10
	streamReadBuffer  = 64 << 10
)

// pooledReadBuffer is the size of the larger read buffers that readBuffers holds: room
// for streamReadBuffer, and for the largest frame under DefaultMaxMessageSize. A buffer
// that must be larger still is made for the conversation and left to the garbage
// collector when the conversation falls back.
const pooledReadBuffer = max(streamReadBuffer, DefaultMaxMessageSize+lengthHeaderSize)

// readBuffers holds larger read buffers between the bursts of stream conversations, so
// that quiet conversations hold only their first buffers, and one that falls back and
// grows again allocates nothing.
var readBuffers = sync.Pool{New: func() any { return new([pooledReadBuffer]byte) }}

func newConversation(conn net.Conn, s settings) *Conversation {
	return &Conversation{conn: conn, settings: s}
}

// Network returns the conversation's network name, such as "tcp" or "unix".
func (c *Conversation) Network() string { return c.network }

// Framing returns the conversation's framing.
func (c *Conversation) Framing() Framing { return c.framing }

// MaxMessageSize returns the largest message the conversation sends or receives.
func (c *Conversation) MaxMessageSize() int { return c.limit }

// LocalAddr returns this side's address.
func (c *Conversation) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the peer's address.
func (c *Conversation) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SetDeadline sets the read and write deadlines, as [net.Conn.SetDeadline] does: a Send
// or Recv still running at t fails with an error matching [os.ErrDeadlineExceeded], and
// the conversation stays usable. The zero time means no deadline.
//
// A time limit on each call (a [Server]'s ReadTimeout and WriteTimeout) still holds
// when it comes first: a deadline set during a call does not lift it.
func (c *Conversation) SetDeadline(t time.Time) error {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.readDL, c.writeDL = t, t
	err := c.conn.SetReadDeadline(earliest(t, c.callReadDL))
	if err == nil {
		err = c.conn.SetWriteDeadline(earliest(t, c.callWriteDL))
	}
	return wrapErr("set deadline", err)
}

// SetReadDeadline sets the deadline of Recv. See [Conversation.SetDeadline].
func (c *Conversation) SetReadDeadline(t time.Time) error {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.readDL = t
	return wrapErr("set deadline", c.conn.SetReadDeadline(earliest(t, c.callReadDL)))
}

// SetWriteDeadline sets the deadline of Send. See [Conversation.SetDeadline].
func (c *Conversation) SetWriteDeadline(t time.Time) error {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.writeDL = t
	return wrapErr("set deadline", c.conn.SetWriteDeadline(earliest(t, c.callWriteDL)))
}

// Send sends msg as one message. A message the framing cannot carry is refused with
// [ErrInvalidMessage] or [ErrMessageTooLarge] and nothing is sent. Send does not keep msg.
func (c *Conversation) Send(msg []byte) error {
	return c.SendContext(context.Background(), msg)
}

// SendString sends s as one message. See [Conversation.Send].
func (c *Conversation) SendString(s string) error {
	// Send only reads msg and keeps none of it, so the string's bytes can be lent to it
	// without the copy (and allocation) that []byte(s) would make.
	return c.Send(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// SendContext is [Conversation.Send] bounded by ctx. When ctx ends first, SendContext
// returns an error matching ctx.Err() and the conversation stays open; if part of the
// message had already gone out, later Sends fail, since the peer can no longer find
// where messages begin.
func (c *Conversation) SendContext(ctx context.Context, msg []byte) error {
	if err := checkSend(c.framing, msg, c.limit); err != nil {
		return err
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closed.Load() {
		return wrapErr("send", net.ErrClosed)
	}
	if c.sendErr != nil {
		return c.sendErr
	}
	if c.sendTimeout > 0 {
		c.limitCall(&c.callWriteDL, c.conn.SetWriteDeadline, c.writeDeadline, time.Now().Add(c.sendTimeout))
		defer c.limitCall(&c.callWriteDL, c.conn.SetWriteDeadline, c.writeDeadline, time.Time{})
	}
	var unbind func(error) error
	if ctx.Done() != nil { // checked here so that Send allocates nothing
		var err error
		if unbind, err = bindContext(ctx, "send", c.conn.SetWriteDeadline, c.writeDeadline); err != nil {
			return err
		}
	}
	n, total, err := c.write(msg)
	if unbind != nil {
		err = unbind(err)
	}
	if err != nil {
		return c.sendFailed(n, total, err)
	}
	c.counters.messagesSent.Add(1)
	c.counters.bytesSent.Add(uint64(len(msg)))
	return nil
}

// sendFailed wraps a write error. When only part of a frame went out (n of total bytes)
// the peer can no longer find where messages begin, so every later Send fails too.
func (c *Conversation) sendFailed(n, total int, err error) error {
	err = wrapErr("send", err)
	if n > 0 && n < total && c.framing != Datagram {
		c.sendErr = &Error{Op: "send", Err: fmt.Errorf("stream broken: an earlier Send stopped after %d of %d bytes: %w", n, total, err),
			Hint: "the peer cannot find message boundaries any more; Close and reconnect"}
	}
	return err
}

// write frames and writes msg. It reports how many bytes of the frame went out.
func (c *Conversation) write(msg []byte) (n, total int, err error) {
	switch c.framing {
	case Raw, Datagram: // the bytes as they are
		n, err = c.conn.Write(msg)
		return n, len(msg), err
	}
	total = frameSize(c.framing, msg)
	if total <= smallFrame {
		c.wbuf = appendFrame(c.wbuf[:0], c.framing, msg)
		n, err = c.conn.Write(c.wbuf)
		return n, total, err
	}
	if c.framing == Lines {
		c.iov = [2][]byte{msg, newline}
	} else {
		putLength(c.hdr[:], len(msg))
		c.iov = [2][]byte{c.hdr[:], msg}
	}
	// One writev for header and payload: one system call, no copy of a large payload.
	c.wv = c.iov[:]
	written, err := c.wv.WriteTo(c.conn)
	c.iov = [2][]byte{} // do not keep the caller's slice
	return int(written), total, err
}

var newline = []byte{'\n'}

// Recv waits for the next message and returns it in a new slice.
//
// It returns [io.EOF] when the peer closed the conversation cleanly, a *[CloseKeyError]
// (matching [ErrCloseKey]) when the peer sent a close key, a *[MessageSizeError] when the
// peer sent a message over the limit, and an *[Error] for socket failures. After any of
// these but a deadline or a cancelled context, every later Recv returns the same error.
func (c *Conversation) Recv() ([]byte, error) {
	return c.RecvContext(context.Background())
}

// RecvString is [Conversation.Recv] returning a string.
func (c *Conversation) RecvString() (string, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	msg, err := c.next(context.Background())
	return string(msg), err
}

// RecvContext is [Conversation.Recv] bounded by ctx. When ctx ends first it returns an
// error matching ctx.Err() and the conversation stays usable: a message that was half
// read is kept and completed by the next Recv.
func (c *Conversation) RecvContext(ctx context.Context) ([]byte, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	msg, err := c.next(ctx)
	if err != nil {
		return nil, err
	}
	return append(make([]byte, 0, len(msg)), msg...), nil
}

// AppendRecv waits for the next message, appends it to dst and returns the extended
// slice. Passing the previous result sliced to zero length (buf[:0]) reuses its memory,
// so a loop of AppendRecv calls does not allocate once the buffer has grown. Errors are
// those of [Conversation.Recv]; on error dst is returned unchanged.
func (c *Conversation) AppendRecv(dst []byte) ([]byte, error) {
	return c.AppendRecvContext(context.Background(), dst)
}

// AppendRecvContext is [Conversation.AppendRecv] bounded by ctx, as
// [Conversation.RecvContext] is.
func (c *Conversation) AppendRecvContext(ctx context.Context, dst []byte) ([]byte, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	msg, err := c.next(ctx)
	if err != nil {
		return dst, err
	}
	return append(dst, msg...), nil
}

// next returns the next message, which stays valid until the next read. recvMu is held.
func (c *Conversation) next(ctx context.Context) ([]byte, error) {
	if c.recvErr != nil {
		return nil, c.recvErr
	}
	if c.closed.Load() {
		return nil, wrapErr("recv", net.ErrClosed)
	}
	if c.recvTimeout > 0 {
		c.limitCall(&c.callReadDL, c.conn.SetReadDeadline, c.readDeadline, time.Now().Add(c.recvTimeout))
		defer c.limitCall(&c.callReadDL, c.conn.SetReadDeadline, c.readDeadline, time.Time{})
	}
	var unbind func(error) error
	if ctx.Done() != nil { // checked here so that Recv allocates nothing
		var err error
		if unbind, err = bindContext(ctx, "recv", c.conn.SetReadDeadline, c.readDeadline); err != nil {
			return nil, err
		}
	}
	msg, err := c.read()
	if unbind != nil {
		err = unbind(err)
	}
	if err != nil && c.closed.Load() {
		err = net.ErrClosed // closed by this program while reading: say that, not a timeout
	}
	if err != nil {
		err = wrapErr("recv", err)
		if !c.isTransient(err) {
			c.recvErr = err
		}
		return nil, err
	}
	c.counters.messagesReceived.Add(1)
	c.counters.bytesReceived.Add(uint64(len(msg)))
	if key, ok := match(c.keys, msg); ok {
		c.recvErr = &CloseKeyError{Key: key, Text: string(trimSpace(msg))}
		return nil, c.recvErr
	}
	return msg, nil
}

// isTransient reports whether a Recv error leaves the conversation usable: a deadline,
// an ended context, an oversize datagram (which was dropped whole), or a datagram
// refused by the peer's system.
func (c *Conversation) isTransient(err error) bool {
	var ne net.Error
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) ||
		(c.framing == Datagram && errors.Is(err, ErrMessageTooLarge)) ||
		// A datagram the peer's system refused (nothing listened then): the peer may
		// listen by the next one.
		(c.framing == Datagram && errors.Is(err, syscall.ECONNREFUSED))
}

// read reads until one whole message is buffered and returns it.
func (c *Conversation) read() ([]byte, error) {
	if c.framing == Datagram {
		return c.readDatagram()
	}
	split := splitLine
	switch c.framing {
	case LengthPrefixed:
		split = splitLength
	case Raw:
		split = splitRaw
	}
	for {
		adv, msg, need, err := split(c.rbuf[c.r:c.w], c.limit, c.eof)
		switch {
		case err == nil:
			c.r += adv
			c.frame = adv
			if c.r == c.w {
				c.r, c.w = 0, 0
			}
			return msg, nil
		case err != errNeedMore:
			// The framing is broken (an oversize frame, or a peer gone mid-frame): the
			// rest of the stream cannot be read safely, so the conversation ends here.
			_ = c.conn.Close()
			return nil, err
		case c.eof:
			return nil, io.EOF
		}
		if err := c.fill(need); err != nil {
			return nil, err
		}
	}
}

// fill reads more bytes into rbuf, making room for at least need buffered bytes.
func (c *Conversation) fill(need int) error {
	if c.rbuf == nil {
		size := initialReadBuffer
		if c.framing == Raw {
			size = c.limit // one read is one message of up to limit bytes
		}
		c.small = make([]byte, min(size, c.limit+lengthHeaderSize))
		c.rbuf = c.small
	}
	if c.r == c.w && len(c.rbuf) > len(c.small) && !c.filled && c.frame <= len(c.small) {
		// All that was read has been delivered, and this read may wait long for the
		// peer: wait with the small buffer and give the larger one back, so that a
		// conversation that goes quiet after a burst holds 4 KiB, not 64. Not when the
		// peer seems to be streaming, where falling back would cost a second read (and
		// a pool round trip) per message: after a read that filled the buffer (more may
		// be ready), or a message that did not fit in the small buffer (the next may
		// not either). Such a conversation keeps the larger buffer until a later drain.
		putReadBuffer(c.rbuf)
		c.rbuf, c.r, c.w = c.small, 0, 0
	}
	need = max(need, c.w-c.r+1)
	if c.r > 0 && (c.w == len(c.rbuf) || len(c.rbuf)-c.r < need) {
		c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
		c.r = 0
	}
	if len(c.rbuf) < need {
		// Grow, never past what the largest frame needs: the split functions refuse
		// anything larger before it is read.
		c.grow(min(max(need, 2*len(c.rbuf)), c.limit+lengthHeaderSize))
	}
	n, err := c.conn.Read(c.rbuf[c.w:])
	c.w += n
	c.filled = c.w == len(c.rbuf)
	if c.filled && c.framing != Raw && len(c.rbuf) < min(streamReadBuffer, c.limit+lengthHeaderSize) {
		// The read filled the buffer: the peer is streaming. A larger buffer takes more
		// messages per system call.
		c.grow(min(2*len(c.rbuf), streamReadBuffer, c.limit+lengthHeaderSize))
	}
	if err == io.EOF {
		c.eof = true
		return nil
	}
	return err
}

// grow makes rbuf size bytes long, keeping the bytes not yet delivered. Up to
// pooledReadBuffer it takes a buffer from readBuffers, and grows within it after that.
func (c *Conversation) grow(size int) {
	if size <= cap(c.rbuf) {
		c.rbuf = c.rbuf[:size] // a pooled buffer has the room already
		return
	}
	var b []byte
	if size <= pooledReadBuffer && c.limit+lengthHeaderSize >= streamReadBuffer {
		b = readBuffers.Get().(*[pooledReadBuffer]byte)[:size]
	} else {
		// Larger than the pool's buffers, or for a conversation whose frames are so
		// small that it never needs one of them whole.
		b = make([]byte, size)
	}
	c.w = copy(b, c.rbuf[c.r:c.w])
	c.r = 0
	if len(c.rbuf) > len(c.small) {
		putReadBuffer(c.rbuf)
	}
	c.rbuf = b
}

// putReadBuffer lets go of a grown read buffer: back to the pool if it came from there.
func putReadBuffer(b []byte) {
	if cap(b) == pooledReadBuffer {
		readBuffers.Put((*[pooledReadBuffer]byte)(b[:pooledReadBuffer]))
	}
}

// readDatagram reads one datagram. The buffer holds one byte more than the limit, so a
// datagram over the limit shows itself instead of being cut short in silence.
func (c *Conversation) readDatagram() ([]byte, error) {
	if c.rbuf == nil {
		c.rbuf = make([]byte, c.limit+1)
	}
	n, err := c.conn.Read(c.rbuf)
	if err != nil {
		return nil, err
	}
	if n > c.limit {
		return nil, &MessageSizeError{Op: "recv", Size: -1, Max: c.limit, Datagram: true}
	}
	return c.rbuf[:n], nil
}

// Goodbye says goodbye the way the seed's programs do: it sends key, a close key, and
// closes the conversation. On a stream it shuts its sending side at once and lets the
// socket linger, up to half a second in the background, until the peer closes too,
// discarding what the peer still sends, so that a connection reset cannot swallow the
// goodbye. An empty key sends the conversation's first close key ("bye"
// by default). With close keys disabled Goodbye only closes. A key that is not one of
// the conversation's close keys is refused with [ErrInvalidMessage] and nothing happens.
func (c *Conversation) Goodbye(key string) error {
	if key == "" {
		key = c.keys.first()
	} else if _, ok := match(c.keys, key); !ok {
		return fmt.Errorf("%w: %q is not one of this conversation's close keys, so the peer would not take it as goodbye", ErrInvalidMessage, key)
	}
	if key == "" {
		return c.Close()
	}
	if err := c.SendString(key); err != nil {
		return errors.Join(err, c.Close())
	}
	return c.closeLingering()
}

// goodbyeLinger is how long a conversation closed by Goodbye waits, in the background,
// for the peer to close its side.
const goodbyeLinger = 500 * time.Millisecond

// closeLingering closes the conversation like Close, but on a stream it first shuts
// only the sending side (the peer reads the goodbye, then EOF) and leaves a goroutine to
// read and discard what the peer still sends until it closes too, for at most
// goodbyeLinger, before closing the socket. Closing a socket that holds unread data
// makes the system reset the connection, and a reset can throw away the goodbye before
// the peer has read it.
func (c *Conversation) closeLingering() error {
	cw, ok := c.conn.(interface{ CloseWrite() error })
	if !ok || c.framing == Datagram {
		return c.Close()
	}
	if c.closed.Swap(true) {
		return wrapErr("close", net.ErrClosed)
	}
	if c.onClose != nil {
		c.onClose()
	}
	if err := cw.CloseWrite(); err != nil {
		return wrapErr("close", c.conn.Close())
	}
	// Wake a Recv in progress (it sees the conversation closed and says so), then
	// linger once no Recv is reading.
	_ = c.conn.SetReadDeadline(aLongTimeAgo)
	go func() {
		c.recvMu.Lock()
		defer c.recvMu.Unlock()
		_ = c.conn.SetReadDeadline(time.Now().Add(goodbyeLinger))
		var scratch [512]byte
		for {
			if _, err := c.conn.Read(scratch[:]); err != nil {
				break
			}
		}
		_ = c.conn.Close()
	}()
	return nil
}

// Close ends the conversation and unblocks a Send or Recv in progress, which then
// return an error matching [net.ErrClosed]. A second Close returns such an error too.
func (c *Conversation) Close() error {
	if c.closed.Swap(true) {
		return wrapErr("close", net.ErrClosed)
	}
	if c.onClose != nil {
		c.onClose()
	}
	err := c.conn.Close()
	if errors.Is(err, net.ErrClosed) {
		// Recv closed the socket itself when the framing broke; that is no error here.
		err = nil
	}
	return wrapErr("close", err)
}

// readDeadline is the deadline in force for Recv: the program's, or the per-call limit
// when that comes first.
func (c *Conversation) readDeadline() time.Time {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	return earliest(c.readDL, c.callReadDL)
}

// writeDeadline is the deadline in force for Send. See readDeadline.
func (c *Conversation) writeDeadline() time.Time {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	return earliest(c.writeDL, c.callWriteDL)
}

// limitCall sets (or, with the zero t, clears) the per-call deadline *call and applies
// the deadline now in force to the socket.
func (c *Conversation) limitCall(call *time.Time, set func(time.Time) error, current func() time.Time, t time.Time) {
	c.dlMu.Lock()
	*call = t
	c.dlMu.Unlock()
	_ = set(current())
}

// earliest returns the earlier of two deadlines, the zero time meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// aLongTimeAgo is a deadline in the past: setting it unblocks a pending I/O call.
var aLongTimeAgo = time.Unix(1, 0)

// bindContext makes ctx bound one I/O call through the socket deadline that set
// changes, without closing anything. The returned unbind must be called with the call's
// error once it returns: it puts back the deadline the program set (from current) and
// turns a deadline error caused by ctx into ctx's error.
func bindContext(ctx context.Context, op string, set func(time.Time) error, current func() time.Time) (unbind func(error) error, err error) {
	if ctx.Done() == nil {
		return func(err error) error { return err }, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: op, Err: err, Hint: "the context had ended before the call"}
	}
	if d, ok := ctx.Deadline(); ok {
		if user := current(); user.IsZero() || d.Before(user) {
			_ = set(d)
		}
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = set(aLongTimeAgo)
		close(done)
	})
	return func(err error) error {
		if !stop() {
			<-done // the AfterFunc ran: wait until it has set the deadline before resetting it
		}
		_ = set(current())
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		cerr := ctx.Err()
		if d, ok := ctx.Deadline(); cerr == nil && ok && !time.Now().Before(d) {
			cerr = context.DeadlineExceeded
		}
		if cerr == nil {
			return err // the program's own deadline
		}
		return &Error{Op: op, Err: cerr, Hint: "the context ended; the conversation is still usable"}
	}, nil
}
