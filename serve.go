package sockmsg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// Defaults of the [Server] options.
const (
	// DefaultMaxConversations is how many conversations a Server handles at once unless
	// [Server.MaxConversations] says otherwise.
	DefaultMaxConversations = 1024

	// DefaultShutdownGrace is how long a Server lets its handlers finish after its
	// context ends, unless [Server.ShutdownGrace] says otherwise.
	DefaultShutdownGrace = 5 * time.Second

	// DefaultHandshakeTimeout bounds a TLS handshake under a Server unless
	// [Server.HandshakeTimeout] says otherwise.
	DefaultHandshakeTimeout = 10 * time.Second

	// DefaultRefuseMessage is what a Server with [RefuseWhenFull] sends a peer it has no
	// room for, unless [Server.RefuseMessage] says otherwise.
	DefaultRefuseMessage = "busy: too many conversations, try again later"
)

// goodbyeTimeout bounds the goodbye (and the refusal) a Server sends when it ends a
// conversation itself, so that a peer that does not read cannot hold it.
const goodbyeTimeout = time.Second

// maxRefusing bounds the refusals in progress at once; peers beyond it are closed without
// a word.
const maxRefusing = 64

// FullPolicy says what a [Server] does with a peer that connects while it already
// handles [Server.MaxConversations] conversations.
type FullPolicy int

const (
	// WaitWhenFull stops accepting until a conversation ends: new peers wait in the
	// system's listen backlog (a stream peer's Dial succeeds, its first Recv waits), and
	// are served in turn.
	WaitWhenFull FullPolicy = iota

	// RefuseWhenFull accepts the peer, sends it [Server.RefuseMessage], says goodbye (a
	// close key) and closes, without running the handler. The peer learns at once that
	// it should come back later. Refused peers are counted in [ServeStats.Refused].
	RefuseWhenFull
)

// Errors a [Server] reports through [Server.OnError] about conversations it ended itself.
var (
	// ErrShutdownGrace means a handler was still running when the Server's shutdown grace
	// period ended, so the Server said goodbye and closed its conversation.
	ErrShutdownGrace = errors.New("sockmsg: handler still running when the shutdown grace period ended")

	// ErrHandlerPanic means a handler panicked. The error is a *[PanicError].
	ErrHandlerPanic = errors.New("sockmsg: handler panicked")
)

// PanicError is reported when a handler panics: the Server recovers, closes that
// conversation and goes on serving the others. It matches [ErrHandlerPanic], and unwraps
// to the panic value when that is an error.
type PanicError struct {
	Value any    // what the handler passed to panic
	Stack []byte // the handler's goroutine stack at the panic
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("sockmsg: handler panicked: %v", e.Value)
}

// Is reports whether target is [ErrHandlerPanic].
func (e *PanicError) Is(target error) bool { return target == ErrHandlerPanic }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Server runs a handler for every conversation a [Listener] accepts, with a limit on how
// many run at once, time limits against slow and silent peers, and a graceful shutdown.
// Its fields are options, read when Serve starts; the zero value of each is its default.
// Set them before calling Serve and do not change them after. A Server must not be copied
// once used. One Server may serve several listeners at once; its counters add them up.
type Server struct {
	// Handler talks with one peer. It runs in its own goroutine, once per conversation,
	// with a context that ends when the Server shuts down. Whatever it returns, the
	// Server then closes the conversation. A returned error is passed to OnError, except
	// the normal ends: one matching [io.EOF] or [ErrCloseKey] (the peer left or said
	// goodbye), or [context.Canceled] during shutdown. A panic is recovered and reported
	// as a *[PanicError]. Required.
	Handler func(ctx context.Context, c *Conversation) error

	// MaxConversations is the most conversations handled at once; WhenFull says what
	// happens to the next peer. Default (0): DefaultMaxConversations (1024). Negative:
	// no limit (then the number of open files is the limit).
	MaxConversations int

	// WhenFull is the policy when MaxConversations are being handled. Default: WaitWhenFull.
	WhenFull FullPolicy

	// RefuseMessage is the message RefuseWhenFull sends before its goodbye. It must be one
	// the listener's framing can carry (no newline with Lines framing). Default (""):
	// DefaultRefuseMessage.
	RefuseMessage string

	// IdleTimeout ends a conversation that carried no whole message, in either direction,
	// for this long: the Server says goodbye (a close key), closes it, which unblocks the
	// handler, and reports ErrIdleTimeout. A peer that sends half a message and stalls,
	// or trickles a byte at a time, is idle. The check runs four times per period, so the
	// end comes between IdleTimeout and 1.25×IdleTimeout after the last message.
	// Default (0): no idle limit. Negative values are refused.
	IdleTimeout time.Duration

	// ReadTimeout bounds every Recv of the handler's conversation, from the call to the
	// whole message: past it, Recv fails with an error matching [os.ErrDeadlineExceeded]
	// (a half-read message is kept for the next call). Deadlines the handler sets apply
	// too; the earlier wins. Default (0): none. Negative values are refused.
	ReadTimeout time.Duration

	// WriteTimeout bounds every Send of the handler's conversation the same way, so a
	// peer that stops reading cannot block a Send for ever. Default (0): none. Negative
	// values are refused.
	WriteTimeout time.Duration

	// HandshakeTimeout bounds the TLS handshake of a listener with [Config.TLS], which
	// the Server runs in the conversation's goroutine before the handler, never in the
	// accept loop. A failed handshake is reported to OnError and the handler does not
	// run; a peer that spoke plaintext is told so before it is closed.
	// Default (0): DefaultHandshakeTimeout (10s). Negative: no limit.
	HandshakeTimeout time.Duration

	// ShutdownGrace is how long handlers may go on after Serve's context ends before the
	// Server says goodbye to their conversations and closes them. Default (0):
	// DefaultShutdownGrace (5s). Negative: no grace, goodbye at once.
	ShutdownGrace time.Duration

	// OnError, if set, is told about every failure: a handler's error, a panic, an idle
	// or shutdown ending, a failed TLS handshake, and (with a nil conversation) an accept
	// error that the Server retries. It may be called from many goroutines at once and
	// should return quickly. The conversation may already be closed. Default (nil):
	// failures are only counted (see [Server.Stats]).
	OnError func(c *Conversation, err error)

	counters serveCounters
}

// ServeStats counts what a [Server] has done. Add it to the listener's and each
// conversation's Stats for messages and bytes.
type ServeStats struct {
	Accepted        uint64 // conversations accepted, refused ones included
	Active          int64  // handlers running now (TLS handshakes included)
	Refused         uint64 // peers refused because MaxConversations were busy (RefuseWhenFull)
	Handled         uint64 // handlers that have returned
	HandlerErrors   uint64 // handlers that returned an error (not EOF or a close key) or panicked
	Panics          uint64 // handlers that panicked (also counted in HandlerErrors)
	Timeouts        uint64 // handler errors that were a deadline: ReadTimeout, WriteTimeout, or the handler's own
	IdleTimeouts    uint64 // conversations ended for IdleTimeout
	HandshakeErrors uint64 // TLS handshakes that failed or timed out
	ShutdownForced  uint64 // conversations whose handler outlived ShutdownGrace
	AcceptErrors    uint64 // temporary accept errors (such as too many open files), retried
}

type serveCounters struct {
	accepted, refused, handled, handlerErrors, panics, timeouts atomic.Uint64
	idleTimeouts, handshakeErrors, shutdownForced, acceptErrors atomic.Uint64
	active                                                      atomic.Int64
}

// Stats returns the Server's counters so far. It is safe to call at any time.
func (s *Server) Stats() ServeStats {
	c := &s.counters
	return ServeStats{
		Accepted:        c.accepted.Load(),
		Active:          c.active.Load(),
		Refused:         c.refused.Load(),
		Handled:         c.handled.Load(),
		HandlerErrors:   c.handlerErrors.Load(),
		Panics:          c.panics.Load(),
		Timeouts:        c.timeouts.Load(),
		IdleTimeouts:    c.idleTimeouts.Load(),
		HandshakeErrors: c.handshakeErrors.Load(),
		ShutdownForced:  c.shutdownForced.Load(),
		AcceptErrors:    c.acceptErrors.Load(),
	}
}

// Serve runs handler for every conversation ln accepts until ctx ends, with the default
// [Server] options. See [Server.Serve].
func Serve(ctx context.Context, ln *Listener, handler func(ctx context.Context, c *Conversation) error) error {
	return (&Server{Handler: handler}).Serve(ctx, ln)
}

// Serve accepts conversations on ln and runs the Handler for each in its own goroutine,
// until ctx ends or ln fails. One handler's error, panic or broken peer never stops the
// others, and a temporary accept error (such as too many open files) is retried with a
// growing pause.
//
// When ctx ends Serve shuts down gracefully: it closes ln, so no peer is accepted any
// more, and ends the handlers' context. Each handler that returns within ShutdownGrace
// has its conversation closed with a goodbye (the first close key, sent after the last
// message the handler sent, so nothing it sent is lost). When the grace period ends, the
// Server says goodbye to the conversations still open and closes them, which unblocks
// their handlers' Send and Recv. Serve returns only after every handler has returned; a
// handler that blocks on something other than its conversation keeps it waiting.
//
// Serve always closes ln before it returns. It returns nil after a shutdown caused by
// ctx, an error matching [ErrInvalidConfig] for bad options, and otherwise the error
// that stopped Accept (for instance, one matching [net.ErrClosed] if ln was closed by
// someone else), after the running handlers have returned on their own.
func (s *Server) Serve(ctx context.Context, ln *Listener) error {
	r, err := s.start()
	if err != nil {
		_ = ln.Close()
		return err
	}
	var cancelHandlers context.CancelFunc
	r.handlerCtx, cancelHandlers = context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	var force context.CancelFunc
	r.forceCtx, force = context.WithCancel(context.Background())
	defer force()

	// The group is the set of running handlers (and refusals); Serve waits for all of
	// them. Their errors go to OnError, never to the group, so that none stops another.
	var g errgroup.Group
	acceptErr := r.accept(ctx, ln, &g)
	_ = ln.Close()

	done := make(chan struct{})
	go func() {
		_ = g.Wait()
		close(done)
	}()
	select {
	case <-done: // the listener failed and every handler has finished on its own
	case <-ctx.Done():
	}
	cancelHandlers()
	if r.grace > 0 {
		grace := time.NewTimer(r.grace)
		select {
		case <-done:
		case <-grace.C:
		}
		grace.Stop()
	}
	force()
	<-done
	return acceptErr
}

// serving is one run of Server.Serve with its options resolved.
type serving struct {
	*Server
	limit      int // 0: none
	refuseMsg  string
	handshake  time.Duration // 0: none
	grace      time.Duration // 0: none
	handlerCtx context.Context
	forceCtx   context.Context
}

func (s *Server) start() (*serving, error) {
	r := &serving{Server: s, limit: s.MaxConversations, refuseMsg: s.RefuseMessage, handshake: s.HandshakeTimeout, grace: s.ShutdownGrace}
	switch {
	case s.Handler == nil:
		return nil, fmt.Errorf("%w: Server.Handler is nil", ErrInvalidConfig)
	case s.WhenFull != WaitWhenFull && s.WhenFull != RefuseWhenFull:
		return nil, fmt.Errorf("%w: unknown Server.WhenFull policy %d", ErrInvalidConfig, int(s.WhenFull))
	case s.IdleTimeout < 0 || s.ReadTimeout < 0 || s.WriteTimeout < 0:
		return nil, fmt.Errorf("%w: Server.IdleTimeout, ReadTimeout and WriteTimeout must not be negative (0 means no limit)", ErrInvalidConfig)
	}
	if r.limit == 0 {
		r.limit = DefaultMaxConversations
	}
	r.limit = max(r.limit, 0)
	if r.refuseMsg == "" {
		r.refuseMsg = DefaultRefuseMessage
	}
	if r.handshake == 0 {
		r.handshake = DefaultHandshakeTimeout
	}
	r.handshake = max(r.handshake, 0)
	if r.grace == 0 {
		r.grace = DefaultShutdownGrace
	}
	r.grace = max(r.grace, 0)
	return r, nil
}

// accept runs the accept loop until ctx ends (it then returns nil) or Accept fails for
// good (it returns that error).
func (r *serving) accept(ctx context.Context, ln *Listener, g *errgroup.Group) error {
	var slots *semaphore.Weighted
	if r.limit > 0 {
		slots = semaphore.NewWeighted(int64(r.limit))
	}
	refusing := semaphore.NewWeighted(maxRefusing)
	var pause time.Duration
	for {
		reserved := slots != nil && r.WhenFull == WaitWhenFull
		if reserved {
			if err := slots.Acquire(ctx, 1); err != nil {
				return nil // ctx ended
			}
		}
		c, err := ln.AcceptContext(ctx)
		if err != nil {
			if reserved {
				slots.Release(1)
			}
			if ctx.Err() != nil {
				return nil
			}
			if !temporary(err) {
				return err
			}
			r.counters.acceptErrors.Add(1)
			r.report(nil, err)
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			if !sleep(ctx, pause) {
				return nil
			}
			continue
		}
		pause = 0
		r.counters.accepted.Add(1)
		if slots != nil && !reserved && !slots.TryAcquire(1) {
			r.counters.refused.Add(1)
			if !refusing.TryAcquire(1) {
				_ = c.Close()
				continue
			}
			g.Go(func() error {
				defer refusing.Release(1)
				r.refuse(c)
				return nil
			})
			continue
		}
		g.Go(func() error {
			if slots != nil {
				defer slots.Release(1)
			}
			r.handle(c)
			return nil
		})
	}
}

// temporary reports whether an Accept error may go away by itself, so that accepting
// should go on after a pause: the process or system is out of file descriptors or
// memory, or one peer's connection broke before it could be accepted.
func temporary(err error) bool {
	for _, errno := range [...]syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// sleep waits for d or until ctx ends; it reports whether the whole d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// refuse tells a peer there is no room for it, says goodbye and closes, all within
// goodbyeTimeout.
func (r *serving) refuse(c *Conversation) {
	_ = c.SetDeadline(time.Now().Add(goodbyeTimeout))
	if err := c.handshake(r.forceCtx, goodbyeTimeout); err != nil {
		_ = c.Close()
		return
	}
	if err := c.SendString(r.refuseMsg); err != nil {
		_ = c.Close()
		return
	}
	_ = c.Goodbye("")
}

// ending is why a served conversation was closed.
type ending int

const (
	endReturned ending = iota // the handler returned while the Server was serving
	endShutdown               // the handler returned during shutdown
	endIdle                   // IdleTimeout
	endForced                 // ShutdownGrace ran out
)

// ender closes a served conversation once, for the first reason that comes.
type ender struct {
	once   sync.Once
	c      *Conversation
	reason ending
}

// end closes the conversation for reason, unless it was already ended; a concurrent
// call waits until the first one has finished.
func (e *ender) end(reason ending) {
	e.once.Do(func() {
		e.reason = reason
		if reason == endReturned {
			_ = e.c.Close()
			return
		}
		goodbye(e.c)
	})
}

// goodbye sends the conversation's close key and closes it, within goodbyeTimeout even
// if a handler's Send holds the conversation or the peer does not read.
func goodbye(c *Conversation) {
	_ = c.SetWriteDeadline(time.Now().Add(goodbyeTimeout))
	closed := make(chan struct{})
	hard := time.AfterFunc(goodbyeTimeout, func() {
		_ = c.Close()
		close(closed)
	})
	_ = c.Goodbye("")
	if !hard.Stop() {
		<-closed
	}
}

// handle runs the handler for one conversation and closes it afterwards.
func (r *serving) handle(c *Conversation) {
	r.counters.active.Add(1)
	defer r.counters.active.Add(-1)
	ctx, cancel := context.WithCancel(r.handlerCtx)
	defer cancel()
	if err := c.handshake(ctx, r.handshake); err != nil {
		r.counters.handshakeErrors.Add(1)
		r.report(c, err)
		_ = c.Close()
		return
	}
	c.recvTimeout, c.sendTimeout = r.ReadTimeout, r.WriteTimeout

	e := &ender{c: c}
	stopForce := context.AfterFunc(r.forceCtx, func() { e.end(endForced) })
	var idle *idleWatch
	if r.IdleTimeout > 0 {
		idle = watchIdle(c, r.IdleTimeout, func() { e.end(endIdle) })
	}

	var err error
	defer func() { // deferred, so that it runs even if the handler calls runtime.Goexit
		stopForce()
		if idle != nil {
			idle.stop()
		}
		if r.handlerCtx.Err() != nil {
			e.end(endShutdown)
		} else {
			e.end(endReturned)
		}
		r.counters.handled.Add(1)
		r.settle(c, err, e.reason)
	}()
	err = r.call(ctx, c)
}

// call runs the handler, turning a panic into a *PanicError.
func (r *serving) call(ctx context.Context, c *Conversation) (err error) {
	defer func() {
		if v := recover(); v != nil {
			stack := make([]byte, 16<<10)
			err = &PanicError{Value: v, Stack: stack[:runtime.Stack(stack, false)]}
		}
	}()
	return r.Handler(ctx, c)
}

// settle counts and reports how a handler ended.
func (r *serving) settle(c *Conversation, err error, reason ending) {
	switch {
	case errors.Is(err, ErrHandlerPanic):
		r.counters.handlerErrors.Add(1)
		r.counters.panics.Add(1)
		r.report(c, err)
	case reason == endIdle:
		r.counters.idleTimeouts.Add(1)
		r.report(c, fmt.Errorf("%w: no message either way for %v", ErrIdleTimeout, r.IdleTimeout))
	case reason == endForced:
		r.counters.shutdownForced.Add(1)
		r.report(c, fmt.Errorf("%w (%v)", ErrShutdownGrace, r.grace))
	case err == nil || errors.Is(err, io.EOF) || errors.Is(err, ErrCloseKey),
		reason == endShutdown && errors.Is(err, context.Canceled):
		// The peer left or said goodbye, or the handler stopped for the shutdown: a
		// normal end.
	default:
		r.counters.handlerErrors.Add(1)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			r.counters.timeouts.Add(1)
		}
		r.report(c, err)
	}
}

func (r *serving) report(c *Conversation, err error) {
	if r.OnError != nil {
		r.OnError(c, err)
	}
}

// idleWatch ends a conversation that carries no message for a while. It looks at the
// conversation's message counters four times per period, so the hot path pays nothing.
type idleWatch struct {
	mu      sync.Mutex
	c       *Conversation
	limit   time.Duration
	onIdle  func()
	timer   *time.Timer
	seen    uint64    // messages sent and received at the last look
	since   time.Time // when seen was first observed
	stopped bool
}

func watchIdle(c *Conversation, limit time.Duration, onIdle func()) *idleWatch {
	w := &idleWatch{c: c, limit: limit, onIdle: onIdle, since: time.Now()}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(w.period(), w.check)
	return w
}

func (w *idleWatch) period() time.Duration { return max(w.limit/4, time.Millisecond) }

func (w *idleWatch) check() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	st := w.c.Stats()
	now := time.Now()
	if n := st.MessagesSent + st.MessagesReceived; n != w.seen {
		w.seen, w.since = n, now
	}
	left := w.limit - now.Sub(w.since)
	if left <= 0 {
		w.stopped = true
		w.mu.Unlock()
		w.onIdle()
		return
	}
	w.timer.Reset(min(w.period(), left))
	w.mu.Unlock()
}

// stop ends the watch. A check already running either sees it stopped, or is ending
// the conversation, which the caller's own end waits for.
func (w *idleWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
}
