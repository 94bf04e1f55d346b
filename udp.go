package sockmsg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The defaults of the UDP fields of [Config].
const (
	// DefaultBacklog is how many new peers may wait for Accept on a UDP listener.
	DefaultBacklog = 128
	// DefaultPeerQueue is how many datagrams a server-side UDP conversation holds for Recv.
	DefaultPeerQueue = 256
	// DefaultIdleTimeout ends a server-side UDP conversation whose peer went silent.
	DefaultIdleTimeout = 5 * time.Minute
)

// defaultDatagramSize is the default MaxMessageSize of a packet network: the largest
// UDP payload over IPv4.
func defaultDatagramSize(network string) int { return 65507 }

// udpSettings are the resolved UDP fields of a Config.
type udpSettings struct {
	backlog int
	queue   int
	idle    time.Duration // 0: never
	// connected: give each peer a socket of its own (Config.ConnectedPeers), on udp
	// networks and where the system supports it.
	connected bool
}

// resolveUDP checks the UDP fields of cfg and fills in their defaults.
func resolveUDP(cfg *Config, network string) (udpSettings, error) {
	u := udpSettings{backlog: cfg.Backlog, queue: cfg.PeerQueue, idle: cfg.IdleTimeout}
	u.connected = cfg.ConnectedPeers && connectedPeersSupported
	switch {
	case cfg.ConnectedPeers && network == "unixgram":
		return u, fmt.Errorf("%w: ConnectedPeers needs a udp network, not %q: a unixgram peer cannot have a socket of its own; leave it unset", ErrInvalidConfig, network)
	case u.backlog < 0:
		return u, fmt.Errorf("%w: Backlog is %d; it must be positive, or 0 for the default", ErrInvalidConfig, u.backlog)
	case u.queue < 0:
		return u, fmt.Errorf("%w: PeerQueue is %d; it must be positive, or 0 for the default", ErrInvalidConfig, u.queue)
	}
	if u.backlog == 0 {
		u.backlog = DefaultBacklog
	}
	if u.queue == 0 {
		u.queue = DefaultPeerQueue
	}
	switch {
	case u.idle == 0:
		u.idle = DefaultIdleTimeout
	case u.idle < 0:
		u.idle = 0
	}
	return u, nil
}

// dialPacket connects a datagram socket to one peer. A connected socket sends to that
// peer only and receives from it only. A unixgram client is bound to a fresh path in a
// temporary directory, so that the server has an address to answer; Close removes it.
func dialPacket(ctx context.Context, s settings, address string) (net.Conn, error) {
	if s.network != "unixgram" {
		var d net.Dialer
		return d.DialContext(ctx, s.network, address)
	}
	dir, err := os.MkdirTemp("", "sockmsg-")
	if err != nil {
		return nil, err
	}
	d := net.Dialer{LocalAddr: &net.UnixAddr{Name: filepath.Join(dir, "c.sock"), Net: "unixgram"}}
	conn, err := d.DialContext(ctx, s.network, address)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &unixgramClient{UnixConn: conn.(*net.UnixConn), dir: dir}, nil
}

// unixgramClient is a dialled unixgram socket that removes its bound path on Close.
type unixgramClient struct {
	*net.UnixConn
	dir string
}

func (c *unixgramClient) Close() error {
	err := c.UnixConn.Close()
	_ = os.RemoveAll(c.dir)
	return err
}

// listenPacket opens a datagram socket and demultiplexes its peers.
func listenPacket(ctx context.Context, s settings, address string) (acceptor, error) {
	var lc net.ListenConfig
	switch {
	case s.udp.connected:
		lc.Control = shareAddress
	case s.network != "unixgram":
		lc.Control = countSystemDrops
	}
	pc, err := lc.ListenPacket(ctx, s.network, address)
	if err != nil {
		return nil, err
	}
	l := newPacketListener(pc, s)
	go l.read()
	return l, nil
}

// newPacketListener makes the demultiplexer of pc; its reader is not started yet.
func newPacketListener(pc net.PacketConn, s settings) *packetListener {
	l := &packetListener{
		pc:         pc,
		limit:      s.limit,
		udp:        s.udp,
		peers:      make(map[peerKey]*peer),
		backlog:    make(chan *peer, s.udp.backlog),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
		epoch:      time.Now(),
		accept:     newDeadline(),
	}
	l.udpConn, _ = pc.(*net.UDPConn)
	l.unixConn, _ = pc.(*net.UnixConn)
	l.connected = s.udp.connected && l.udpConn != nil
	l.network = s.network
	if l.udpConn != nil {
		if a, ok := l.udpConn.LocalAddr().(*net.UDPAddr); ok {
			l.mapV4 = a.IP.To4() == nil
		}
	}
	l.pool.New = func() any { return new(datagram) }
	l.buf = make([]byte, l.limit+1) // one byte more than the limit: an oversize datagram shows itself
	l.token = make(chan struct{}, 1)
	l.token <- struct{}{}
	l.readerWake = make(chan struct{}, 1)
	l.readerWake <- struct{}{} // the reader starts with the token
	l.lend = time.AfterFunc(time.Hour, l.wakeReader)
	l.lend.Stop()
	return l
}

// packetListener is the UDP (and unixgram) demultiplexer: one socket, and a virtual
// connection, a *peer, for every remote address. Whoever reads the socket routes each
// datagram to its peer's bounded queue, making a new peer on an address's first datagram
// and offering it to Accept through the bounded backlog.
//
// One goroutine at a time reads the socket: the one holding the read token. A peer's Read
// that finds its queue empty takes the token and reads the socket itself (leader and
// followers), so that with one busy peer a datagram goes from the socket to Recv with no
// hand-off between goroutines, as on a plain socket. The listener's reader goroutine
// reads only when no Read has wanted the token for lendFor (to admit new peers and keep
// idle times while no one is in Recv); a Read that finds it reading takes the token back.
// On Config.ConnectedPeers the reader keeps the token: peers read sockets of their own.
type packetListener struct {
	pc       net.PacketConn
	udpConn  *net.UDPConn  // pc, on udp networks
	unixConn *net.UnixConn // pc, on unixgram
	network  string
	// connected: each new peer gets a socket connected to it (Config.ConnectedPeers),
	// which from then on receives its datagrams instead of pc.
	connected bool
	mapV4     bool // the socket is IPv6: it names IPv4 peers by IPv4-mapped addresses
	limit     int
	udp       udpSettings
	epoch     time.Time // peers' last-seen times count from here, on the monotonic clock
	pool      sync.Pool // of *datagram: buffers go back here once Read has copied them out

	mu    sync.Mutex
	peers map[peerKey]*peer // nil once the listener has shut down

	backlog    chan *peer    // new peers waiting for Accept; sent to under mu
	accept     *deadline     // Accept's deadline
	done       chan struct{} // closed at shutdown
	endErr     *endReason    // why it shut down; set before done is closed
	endOnce    sync.Once
	readerDone chan struct{} // closed when the reader goroutine has returned
	drops      atomic.Uint64 // datagrams no conversation got
	// connectFailures counts peers that could not have a socket of their own and stayed
	// on the queue.
	connectFailures atomic.Uint64
	queued          atomic.Int64 // bytes of buffers in peers' queues, at most maxQueuedBytes

	// The read token: whoever holds it reads the socket, into buf and oob.
	token      chan struct{}        // holds the token while no one has it
	readerWake chan struct{}        // wakes the reader goroutine to try for the token
	lend       *time.Timer          // wakes the reader lendFor after the token was last given back
	leader     atomic.Pointer[peer] // the peer whose Read holds the token, or nil
	readerHas  atomic.Bool          // the reader goroutine holds the token
	preempt    atomic.Bool          // a Read wants the token from the reader goroutine
	pokeMu     sync.Mutex
	poked      bool // the socket's read deadline is in the past, to wake its reader

	buf         []byte
	oob         [systemDropOOB]byte // the control-message buffer
	systemDrops atomic.Uint64       // the system's count of datagrams it dropped, as of the last read
}

// lendFor is how long the read token waits for a peer's next Read before the listener's
// reader goroutine takes it: long enough for a handler to answer and call Recv again, short
// enough that datagrams from other addresses wait little while no one reads.
const lendFor = time.Millisecond

// maxQueuedBytes bounds the memory all of a listener's queues hold together: without
// it, a flood of full-size datagrams from many addresses could fill Backlog × PeerQueue
// buffers of up to 64 KiB each. A datagram that would go past it is dropped and counted.
const maxQueuedBytes = 64 << 20

// peerKey identifies a remote address without allocating: an IP address and port on
// udp networks, a socket path on unixgram.
type peerKey struct {
	ip   netip.AddrPort
	path string
}

// datagram is a received datagram waiting in a peer's queue. Its buffer is reused.
type datagram struct {
	b        []byte
	oversize bool  // larger than the limit: only the fact is kept
	charge   int64 // bytes counted in the listener's queued total while queued
}

// endReason is why a peer or the listener ended; Read and Write report it.
type endReason struct {
	err   error  // net.ErrClosed, ErrIdleTimeout, or the socket's error
	hint  string // for the *Error built from it
	drain bool   // Read still delivers what is queued before reporting it
}

func (r *endReason) error(op string) error {
	return &Error{Op: op, Err: r.err, Hint: r.hint}
}

var (
	listenerClosed = &endReason{err: net.ErrClosed, hint: "the listener was closed, which ends its UDP conversations"}
	peerClosed     = &endReason{err: net.ErrClosed, hint: "the conversation was closed by this program; the peer's next datagram starts a new one"}
)

// read is the reader goroutine: it reads and routes the socket's datagrams while it
// holds the read token, and gives the token up to a Read that wants it.
func (l *packetListener) read() {
	defer close(l.readerDone)
	for {
		select {
		case <-l.readerWake:
		case <-l.done:
			return
		}
		select {
		case <-l.token:
		default:
			continue // a Read has it, and gives it back later
		}
		l.readerHas.Store(true)
		for {
			l.unpoke()
			if !l.connected && l.preempt.Swap(false) {
				break
			}
			n, key, err := l.readFrom(l.buf)
			if err != nil {
				if isTimeout(err) {
					continue // poked
				}
				l.shutdown(&endReason{err: err, hint: "the listening socket failed; Listen again"})
				return
			}
			l.route(key, l.buf[:n])
		}
		l.readerHas.Store(false)
		l.giveBack()
	}
}

// giveBack returns the read token. A Read waiting for it takes it; if none does within
// lendFor, the reader goroutine does.
func (l *packetListener) giveBack() {
	l.token <- struct{}{} // cannot block: only the holder gives it back
	l.lend.Reset(lendFor)
}

// wakeReader tells the reader goroutine to try for the token.
func (l *packetListener) wakeReader() {
	select {
	case l.readerWake <- struct{}{}:
	default:
	}
}

// poke wakes whoever is reading the socket, by moving its read deadline into the past;
// the reader calls unpoke before it reads again. A poker first changes what the reader
// checks after unpoke (a closed done, an expired deadline, preempt), so either the reader
// sees the change or the poke lands after unpoke and wakes the read.
func (l *packetListener) poke() {
	l.pokeMu.Lock()
	defer l.pokeMu.Unlock()
	l.poked = true
	_ = l.pc.SetReadDeadline(aLongTimeAgo)
}

func (l *packetListener) unpoke() {
	l.pokeMu.Lock()
	defer l.pokeMu.Unlock()
	if l.poked {
		l.poked = false
		_ = l.pc.SetReadDeadline(time.Time{})
	}
}

// lead is Read on a peer that holds the read token: it reads and routes datagrams until
// one of its own comes, or it has to stop; then it gives the token back. Its own datagram,
// when none is queued before it, goes straight into b (ok is true); otherwise Read takes
// the queue's first.
func (p *peer) lead(b []byte) (n int, ok bool, err error) {
	l := p.l
	l.leader.Store(p)
	defer func() {
		l.leader.Store(nil)
		l.giveBack()
	}()
	for len(p.queue) == 0 {
		l.unpoke()
		select {
		case <-p.done:
			return 0, false, nil
		case <-p.readDL.wait():
			return 0, false, nil
		default:
		}
		n, key, err := l.readFrom(l.buf)
		if err != nil {
			if isTimeout(err) {
				continue // poked
			}
			l.shutdown(&endReason{err: err, hint: "the listening socket failed; Listen again"})
			return 0, false, nil
		}
		if key == p.key && len(p.queue) == 0 {
			p.lastSeen.Store(int64(time.Since(l.epoch)))
			switch {
			case n > l.limit:
				return 0, true, &MessageSizeError{Op: "recv", Size: -1, Max: l.limit, Datagram: true}
			case n > len(b):
				return 0, true, &MessageSizeError{Op: "recv", Size: int64(n), Max: len(b), Datagram: true}
			}
			return copy(b, l.buf[:n]), true, nil
		}
		l.route(key, l.buf[:n])
	}
	return 0, false, nil
}

// isTimeout reports whether err is a deadline passing, which a poke causes.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readFrom reads one datagram and names its sender without allocating on udp.
func (l *packetListener) readFrom(buf []byte) (int, peerKey, error) {
	if l.udpConn != nil {
		n, oobn, _, ap, err := l.udpConn.ReadMsgUDPAddrPort(buf, l.oob[:])
		if drops, ok := systemDrops(l.oob[:oobn]); ok {
			l.systemDrops.Store(uint64(drops))
		}
		return n, peerKey{ip: ap}, err
	}
	n, addr, err := l.unixConn.ReadFromUnix(buf)
	var key peerKey
	if addr != nil {
		key.path = addr.Name
	}
	return n, key, err
}

// route hands data to its sender's peer, making the peer if it is new. The reader calls
// it, and so does a connected peer's Read for another address's datagram.
func (l *packetListener) route(key peerKey, data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peers == nil {
		return // shut down
	}
	p := l.peers[key]
	if p == nil {
		if len(l.backlog) == cap(l.backlog) || (l.unixConn != nil && key.path == "") {
			// A full backlog, or an unbound unixgram sender that no one could answer.
			l.drops.Add(1)
			return
		}
		p = l.newPeer(key)
		l.peers[key] = p
		l.backlog <- p // cannot block: senders hold l.mu, and there was room
	}
	l.enqueue(p, data)
}

// enqueue puts a copy of data in p's queue, or counts it as dropped. l.mu is held.
func (l *packetListener) enqueue(p *peer, data []byte) {
	p.lastSeen.Store(int64(time.Since(l.epoch)))
	if len(p.queue) == cap(p.queue) || l.queued.Load()+int64(len(data)) > maxQueuedBytes {
		p.drops.Add(1)
		return
	}
	d := l.pool.Get().(*datagram)
	d.oversize = len(data) > l.limit
	if d.oversize {
		d.b = d.b[:0]
	} else {
		d.b = append(d.b[:0], data...)
	}
	d.charge = int64(cap(d.b))
	l.queued.Add(d.charge)
	p.queue <- d // cannot block: senders hold l.mu, and there was room
	if p.conn != nil {
		// A datagram that reached the listener before the peer's socket was connected:
		// wake a Read waiting on that socket, so that it looks at the queue.
		p.readDL.poke()
	}
}

// newPeer makes the virtual connection of a new remote address. l.mu is held.
func (l *packetListener) newPeer(key peerKey) *peer {
	p := &peer{
		l:       l,
		key:     key,
		queue:   make(chan *datagram, l.udp.queue),
		done:    make(chan struct{}),
		readDL:  newDeadline(),
		writeDL: newDeadline(),
	}
	if l.unixConn != nil {
		p.unixAddr = &net.UnixAddr{Name: key.path, Net: "unixgram"}
		p.raddr = p.unixAddr
	} else {
		p.raddr = net.UDPAddrFromAddrPort(key.ip)
	}
	if l.connected {
		p.connect()
	}
	if p.conn == nil {
		p.readDL.onExpire = p.wakeIfLeading
	}
	if l.udp.idle > 0 {
		p.mu.Lock() // checkIdle reads p.idle
		p.idle = time.AfterFunc(l.udp.idle, p.checkIdle)
		p.mu.Unlock()
	}
	return p
}

// shutdown ends the listener and every peer it still routes to, once.
func (l *packetListener) shutdown(why *endReason) {
	l.endOnce.Do(func() {
		l.mu.Lock()
		peers := l.peers
		l.peers = nil
		l.endErr = why
		close(l.done)
		l.mu.Unlock()
		for _, p := range peers {
			p.end(why)
		}
	})
}

// Accept waits for a new peer. A deadline (set by AcceptContext) or Close unblocks it.
func (l *packetListener) Accept() (net.Conn, error) {
	expired := l.accept.wait()
	select {
	case <-l.done:
		return nil, l.endErr.error("accept")
	case <-expired:
		return nil, l.timeout("accept")
	default:
	}
	select {
	case p := <-l.backlog:
		return p, nil
	case <-l.done:
		return nil, l.endErr.error("accept")
	case <-expired:
		return nil, l.timeout("accept")
	}
}

func (l *packetListener) timeout(op string) error {
	return &net.OpError{Op: op, Net: l.pc.LocalAddr().Network(), Addr: l.pc.LocalAddr(), Err: os.ErrDeadlineExceeded}
}

func (l *packetListener) Addr() net.Addr { return l.pc.LocalAddr() }

func (l *packetListener) SetDeadline(t time.Time) error {
	l.accept.set(t)
	return nil
}

// Close ends every peer, stops the reader and closes the socket (removing a unixgram
// socket's file).
func (l *packetListener) Close() error {
	l.shutdown(listenerClosed)
	err := l.pc.Close()
	<-l.readerDone
	l.lend.Stop()
	l.accept.set(time.Time{}) // stop its timer
	if l.unixConn != nil {
		_ = os.Remove(l.pc.LocalAddr().String())
	}
	return err
}

func (l *packetListener) dropped() uint64 { return l.drops.Load() }

// keyOf returns the key of an address as a peer's socket reports it: the listener's
// socket, when it is IPv6, reports IPv4 peers as IPv4-mapped addresses.
func (l *packetListener) keyOf(ap netip.AddrPort) peerKey {
	if l.mapV4 && ap.Addr().Is4() {
		ap = netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), ap.Port())
	}
	return peerKey{ip: ap}
}

// connect gives the new peer a socket of its own, bound to the listener's address and
// connected to the peer, so that the system delivers the peer's datagrams to it rather
// than to the listener. When that fails (out of file descriptors, say), the peer stays
// on the listener's queue.
func (p *peer) connect() {
	d := net.Dialer{LocalAddr: p.l.pc.LocalAddr(), Control: shareAddress}
	c, err := d.Dial(p.l.network, p.key.ip.String())
	if err != nil {
		p.l.connectFailures.Add(1)
		return
	}
	p.conn = c.(*net.UDPConn)
	p.raw, err = p.conn.SyscallConn()
	if err != nil {
		_ = p.conn.Close()
		p.conn, p.raw = nil, nil
		p.l.connectFailures.Add(1)
		return
	}
	p.readDL.sock = p.conn.SetReadDeadline
}

// peer is one remote address of a packetListener, seen as a net.Conn: Read takes the
// next datagram from its queue, or with the queue empty reads the listener's socket
// itself (see packetListener); Write sends on the listener's socket. A connected peer
// (Config.ConnectedPeers) has a socket of its own: Read empties the queue (what came
// before the socket was connected), then reads the socket; Write sends on it.
type peer struct {
	l        *packetListener
	key      peerKey
	raddr    net.Addr
	unixAddr *net.UnixAddr // raddr, on unixgram

	queue chan *datagram // sent to by route, under l.mu
	drops atomic.Uint64
	// A connected peer's socket and its SO_RXQ_OVFL count (nil, 0 on the queue path).
	conn        *net.UDPConn
	raw         syscall.RawConn
	systemDrops atomic.Uint64
	oob         [systemDropOOB]byte // Read's control-message buffer
	lastSeen    atomic.Int64        // when the last datagram came, as time since l.epoch

	readDL, writeDL *deadline

	mu     sync.Mutex  // guards idle and ending
	idle   *time.Timer // ends the peer when it has been silent too long, or nil
	done   chan struct{}
	endErr *endReason // set before done is closed
}

// end removes the peer from its listener and makes Read and Write fail with why, once.
func (p *peer) end(why *endReason) bool {
	l := p.l
	l.mu.Lock()
	if l.peers[p.key] == p {
		delete(l.peers, p.key)
	}
	l.mu.Unlock()
	// From here on the reader no longer delivers to p.
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.endErr != nil {
		return false
	}
	p.endErr = why
	close(p.done)
	p.wakeIfLeading()
	if p.idle != nil {
		p.idle.Stop()
	}
	p.readDL.set(time.Time{})
	p.writeDL.set(time.Time{})
	if p.conn != nil {
		p.handOver(why.drain)
		_ = p.conn.Close() // unblocks a Read on it
	}
	if !why.drain {
		p.recycle()
	}
	return true
}

// handOver, as a connected peer ends, points its socket away from the peer, so that the
// system gives the peer's next datagram to the listener, then passes on what already
// waits on the socket: the peer's own datagrams to its queue when keep is set (Read
// delivers them before reporting the end), another address's to the listener. p.mu is
// held.
func (p *peer) handOver(keep bool) {
	l := p.l
	if !turnAway(p.raw) {
		return
	}
	var buf []byte
	for {
		if buf == nil {
			if !datagramPending(p.raw) {
				return
			}
			buf = make([]byte, l.limit+1) // only when something waits
		}
		n, from, ok := recvPending(p.raw, buf)
		if !ok {
			return
		}
		data := buf[:min(n, len(buf))] // an oversize datagram shows itself by its length
		if key := l.keyOf(from); key != p.key {
			l.route(key, data)
			continue
		}
		if keep {
			l.mu.Lock()
			l.enqueue(p, data)
			l.mu.Unlock()
		}
	}
}

// recycle gives the queued datagrams' buffers back to the listener.
func (p *peer) recycle() {
	for {
		select {
		case d := <-p.queue:
			p.l.release(d)
		default:
			return
		}
	}
}

// checkIdle runs when the idle timer fires: it ends a silent peer, or waits again.
func (p *peer) checkIdle() {
	silent := time.Since(p.l.epoch) - time.Duration(p.lastSeen.Load())
	left := p.l.udp.idle - silent
	if left <= 0 && p.raw != nil && datagramPending(p.raw) {
		// Not silent: the peer's datagrams wait on its socket for a Read.
		left = p.l.udp.idle
	}
	if left > 0 {
		p.mu.Lock()
		if p.endErr == nil {
			p.idle.Reset(left)
		}
		p.mu.Unlock()
		return
	}
	p.end(&endReason{err: ErrIdleTimeout, drain: true,
		hint: fmt.Sprintf("nothing came from the peer for %v; its next datagram starts a new conversation", p.l.udp.idle)})
}

// wakeIfLeading pokes the socket when p's Read is the one reading it, so that it sees
// that p ended or its deadline passed.
func (p *peer) wakeIfLeading() {
	if p.l.leader.Load() == p {
		p.l.poke()
	}
}

// Read copies the next datagram into b. A datagram over the limit, or longer than b,
// is reported as a *MessageSizeError and dropped; the peer goes on. With nothing queued,
// Read reads the listener's socket itself when it can have the read token, and otherwise
// waits for the token or for a datagram that the token's holder routes to it.
func (p *peer) Read(b []byte) (int, error) {
	if p.conn != nil {
		return p.readConn(b)
	}
	l := p.l
	for {
		expired := p.readDL.wait()
		select {
		case <-p.done:
			return p.readEnded(b)
		case <-expired:
			return 0, p.timeout("read")
		default:
		}
		select {
		case d := <-p.queue:
			return p.copyOut(b, d)
		default:
		}
		var token <-chan struct{}
		if !l.connected {
			token = l.token
			if l.readerHas.Load() {
				l.preempt.Store(true)
				l.poke()
			}
		}
		select {
		case d := <-p.queue:
			return p.copyOut(b, d)
		case <-token:
			if n, ok, err := p.lead(b); ok {
				return n, err
			}
		case <-p.done:
		case <-expired:
		}
	}
}

// readConn is Read on a connected peer: the queue first, then its socket.
func (p *peer) readConn(b []byte) (int, error) {
	for {
		select {
		case <-p.done:
			return p.readConnEnded(b)
		default:
		}
		if p.readDL.rearm() {
			return 0, p.timeout("read")
		}
		select {
		case d := <-p.queue:
			return p.copyOut(b, d)
		default:
		}
		n, oobn, flags, from, err := p.conn.ReadMsgUDPAddrPort(b, p.oob[:])
		if drops, ok := systemDrops(p.oob[:oobn]); ok {
			p.systemDrops.Store(uint64(drops))
		}
		if err != nil {
			select {
			case <-p.done:
				return p.readConnEnded(b)
			default:
			}
			var ne net.Error
			if (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, syscall.ECONNREFUSED) {
				// A poke from the listener, or the deadline (the loop tells which); or
				// the system reporting that an earlier datagram to the peer was refused,
				// which the listener's unconnected socket never hears of either.
				continue
			}
			return 0, err
		}
		if from.Port() != p.key.ip.Port() || from.Addr().Unmap() != p.key.ip.Addr().Unmap() {
			// Another peer's datagram, which the system gave this socket in the moment
			// between its bind and its connect (as one of the listener's SO_REUSEPORT
			// group): it is the listener's to route.
			p.l.route(p.l.keyOf(from), b[:n])
			continue
		}
		p.lastSeen.Store(int64(time.Since(p.l.epoch)))
		switch {
		case n > p.l.limit:
			return 0, &MessageSizeError{Op: "recv", Size: -1, Max: p.l.limit, Datagram: true}
		case flags&msgTrunc != 0:
			return 0, &MessageSizeError{Op: "recv", Size: -1, Max: len(b), Datagram: true}
		}
		return n, nil
	}
}

// readConnEnded is readEnded on a connected peer. It first waits for end to have closed
// the socket (end holds p.mu until then), so that once Read has reported the end, the
// peer's next datagram reaches the listener rather than the closing socket.
func (p *peer) readConnEnded(b []byte) (int, error) {
	p.mu.Lock()
	//lint:ignore SA2001 an empty critical section: it waits for end to finish
	p.mu.Unlock()
	return p.readEnded(b)
}

// readEnded is Read on an ended peer: what is left in the queue, if the reason lets it
// be read, then the reason.
func (p *peer) readEnded(b []byte) (int, error) {
	if p.endErr.drain {
		select {
		case d := <-p.queue:
			return p.copyOut(b, d)
		default:
		}
	}
	return 0, p.endErr.error("recv")
}

// release takes a datagram out of the queued total and gives its buffer back.
func (l *packetListener) release(d *datagram) {
	l.queued.Add(-d.charge)
	l.pool.Put(d)
}

func (p *peer) copyOut(b []byte, d *datagram) (int, error) {
	defer p.l.release(d)
	switch {
	case d.oversize:
		return 0, &MessageSizeError{Op: "recv", Size: -1, Max: p.l.limit, Datagram: true}
	case len(d.b) > len(b):
		return 0, &MessageSizeError{Op: "recv", Size: int64(len(d.b)), Max: len(b), Datagram: true}
	}
	return copy(b, d.b), nil
}

// Write sends b as one datagram to the peer, from the listener's socket. A deadline is
// checked before sending; a send on a datagram socket does not wait for the peer.
func (p *peer) Write(b []byte) (int, error) {
	select {
	case <-p.done:
		return 0, p.endErr.error("send")
	case <-p.writeDL.wait():
		return 0, p.timeout("write")
	default:
	}
	if p.unixAddr != nil {
		return p.l.unixConn.WriteToUnix(b, p.unixAddr)
	}
	if p.conn != nil {
		n, err := p.conn.Write(b)
		if errors.Is(err, syscall.ECONNREFUSED) {
			// The system reports that an earlier datagram was refused; the listener's
			// socket would not have said so. Send this one anyway.
			n, err = p.conn.Write(b)
		}
		if err != nil {
			select {
			case <-p.done:
				return 0, p.endErr.error("send")
			default:
			}
		}
		return n, err
	}
	return p.l.udpConn.WriteToUDPAddrPort(b, p.key.ip)
}

// Close ends this peer only; a later datagram from its address starts a new conversation.
func (p *peer) Close() error {
	if !p.end(peerClosed) {
		return net.ErrClosed
	}
	return nil
}

func (p *peer) timeout(op string) error {
	return &net.OpError{Op: op, Net: p.raddr.Network(), Source: p.LocalAddr(), Addr: p.raddr, Err: os.ErrDeadlineExceeded}
}

func (p *peer) LocalAddr() net.Addr  { return p.l.pc.LocalAddr() }
func (p *peer) RemoteAddr() net.Addr { return p.raddr }

func (p *peer) SetDeadline(t time.Time) error {
	p.readDL.set(t)
	p.writeDL.set(t)
	return nil
}

func (p *peer) SetReadDeadline(t time.Time) error  { p.readDL.set(t); return nil }
func (p *peer) SetWriteDeadline(t time.Time) error { p.writeDL.set(t); return nil }

func (p *peer) dropped() uint64 { return p.drops.Load() + p.systemDrops.Load() }

// systemDroppedBy returns what the system dropped on x's socket, when x is the UDP
// demultiplexer.
func systemDroppedBy(x any) uint64 {
	if l, ok := x.(*packetListener); ok {
		return l.systemDrops.Load()
	}
	return 0
}

// droppedBy returns what x, a conversation's connection or a listener's acceptor, has
// dropped: non-zero only for the UDP demultiplexer and its peers.
func droppedBy(x any) uint64 {
	if d, ok := x.(interface{ dropped() uint64 }); ok {
		return d.dropped()
	}
	return 0
}

// deadline is a deadline for a virtual connection: a channel that is closed when it
// passes. Setting it allocates only when it has passed before or a timer is needed.
type deadline struct {
	mu      sync.Mutex
	ch      chan struct{}
	expired bool
	timer   *time.Timer
	seq     uint64 // counts sets, so that a stale timer does nothing
	at      time.Time
	// sock, when set, is the socket's own deadline setter (a connected peer's read
	// deadline), kept equal to at except after a poke.
	sock  func(time.Time) error
	poked bool
	// onExpire, when set, runs (under mu) when the deadline passes.
	onExpire func()
}

func newDeadline() *deadline { return &deadline{ch: make(chan struct{})} }

// set moves the deadline to t; the zero time means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	d.at = t
	if d.sock != nil && !d.poked { // a poked socket stays woken until rearm
		_ = d.sock(t)
	}
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.expired {
		d.ch = make(chan struct{})
		d.expired = false
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		d.expire()
		return
	}
	seq := d.seq
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.seq == seq {
			d.expire()
		}
	})
}

func (d *deadline) expire() {
	d.expired = true
	close(d.ch)
	if d.onExpire != nil {
		d.onExpire()
	}
}

// poke wakes a read waiting on the socket, by moving the socket's deadline into the
// past; rearm puts it back.
func (d *deadline) poke() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sock != nil {
		d.poked = true
		_ = d.sock(aLongTimeAgo)
	}
}

// rearm puts the deadline back on the socket after a poke and reports whether it has
// passed.
func (d *deadline) rearm() (passed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.poked {
		d.poked = false
		_ = d.sock(d.at)
	}
	return d.expired || (!d.at.IsZero() && !time.Now().Before(d.at))
}

// wait returns a channel that is closed when the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}
