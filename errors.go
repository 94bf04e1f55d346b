package sockmsg

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Sentinel errors. Match them with [errors.Is]; the typed errors below carry the details
// and are reached with [errors.As].
var (
	// ErrCloseKey means the peer sent a close key ("bye", "exit", ...): it is saying goodbye.
	// The error is a *[CloseKeyError] that tells which key.
	ErrCloseKey = errors.New("sockmsg: peer sent a close key")

	// ErrMessageTooLarge means a message is larger than the conversation's maximum message
	// size. The error is a *[MessageSizeError].
	ErrMessageTooLarge = errors.New("sockmsg: message too large")

	// ErrInvalidMessage means Send refused a message that the framing cannot carry
	// (a newline inside a Lines message, an empty Raw message). Nothing was sent.
	ErrInvalidMessage = errors.New("sockmsg: invalid message")

	// ErrUnsupportedNetwork means Listen or Dial was given a network sockmsg cannot use.
	// The error is a *[NetworkError].
	ErrUnsupportedNetwork = errors.New("sockmsg: unsupported network")

	// ErrInvalidConfig means a [Config] field holds a value that cannot work, such as a
	// negative MaxMessageSize or a framing the network cannot carry.
	ErrInvalidConfig = errors.New("sockmsg: invalid config")

	// ErrIdleTimeout means a conversation was ended for being idle: a server-side UDP or
	// unixgram conversation whose peer sent nothing for [Config.IdleTimeout] (Recv
	// returns it inside an *[Error]), or a conversation that carried no message for
	// [Server.IdleTimeout] (reported to [Server.OnError]). Unlike a deadline it does not
	// match [os.ErrDeadlineExceeded]: a deadline leaves the conversation usable, an idle
	// timeout ends it, as the end of a stream would.
	ErrIdleTimeout = errors.New("sockmsg: idle timeout")
)

// CloseKeyError is returned by Recv when the peer sent a close key. It matches
// [ErrCloseKey]. It does not match [io.EOF]: a peer that says goodbye and a peer that
// just leaves are told apart.
type CloseKeyError struct {
	Key  string // the close key matched, as configured ("exit")
	Text string // what the peer sent, surrounding white space trimmed ("EXİT")
}

func (e *CloseKeyError) Error() string {
	if e.Text == e.Key {
		return fmt.Sprintf("sockmsg: peer said goodbye with close key %q", e.Key)
	}
	return fmt.Sprintf("sockmsg: peer said goodbye with close key %q (sent as %q)", e.Key, e.Text)
}

// Is reports whether target is [ErrCloseKey].
func (e *CloseKeyError) Is(target error) bool { return target == ErrCloseKey }

// MessageSizeError reports a message over the maximum size. It matches [ErrMessageTooLarge].
// When Recv returns it on a stream the conversation is over: the rest of the oversize
// frame was never read, so the stream cannot be trusted any more, and the connection has
// been closed. An oversize datagram (Datagram is true) was dropped whole, and the
// conversation goes on.
type MessageSizeError struct {
	Op       string // "send" or "recv"
	Size     int64  // the message's size in bytes, or -1 when unknown (a line with no end in sight)
	Max      int    // the limit in force
	Datagram bool   // a received datagram, dropped whole; the conversation goes on
}

func (e *MessageSizeError) Error() string {
	size := "more than the limit"
	if e.Size >= 0 {
		size = fmt.Sprintf("%d bytes", e.Size)
	}
	hint := "raise Config.MaxMessageSize on both sides if such messages are expected"
	switch {
	case e.Datagram:
		hint = "the datagram was dropped, the conversation goes on; " + hint
	case e.Op == "recv":
		hint = "the conversation was closed; " + hint
	}
	return fmt.Sprintf("sockmsg: %s: message of %s exceeds the maximum of %d bytes (%s)", e.Op, size, e.Max, hint)
}

// Is reports whether target is [ErrMessageTooLarge].
func (e *MessageSizeError) Is(target error) bool { return target == ErrMessageTooLarge }

// NetworkError reports a network name that sockmsg does not support. It matches
// [ErrUnsupportedNetwork].
type NetworkError struct {
	Network string
}

func (e *NetworkError) Error() string {
	var why string
	switch strings.ToLower(e.Network) {
	case "x25", "x.25", "px_x25", "af_x25":
		why = "X.25 is a packet-switched network of the 1970s that Go's net package (and most systems) cannot open; "
	case "unixpacket":
		why = "unixpacket is not supported yet; "
	case "ip", "ip4", "ip6":
		why = "raw IP sockets carry no ports or messages; "
	}
	return fmt.Sprintf("sockmsg: unsupported network %q (%suse one of %s)", e.Network, why, strings.Join(supportedNetworks(), ", "))
}

// Is reports whether target is [ErrUnsupportedNetwork].
func (e *NetworkError) Is(target error) bool { return target == ErrUnsupportedNetwork }

// Error is a failure of the socket underneath a conversation or listener: an address in
// use, a refused or reset connection, a deadline, a local Close. It wraps the error from
// the net package, so errors.Is(err, syscall.ECONNREFUSED), errors.Is(err,
// os.ErrDeadlineExceeded) and errors.Is(err, net.ErrClosed) keep working, and adds a
// hint a person can act on.
type Error struct {
	Op   string // "listen", "dial", "accept", "send", "recv", "close"
	Err  error  // the cause, usually a *net.OpError
	Hint string // what to do about it, or ""
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sockmsg: ")
	msg := strings.TrimPrefix(e.Err.Error(), "sockmsg: ") // one prefix, even around a sentinel
	// A *net.OpError already starts with its operation ("dial tcp 127.0.0.1:1: ...").
	var oe *net.OpError
	if !errors.As(e.Err, &oe) {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(msg)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the error is a deadline or timeout, as [net.Error] does.
func (e *Error) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, os.ErrDeadlineExceeded) || (errors.As(e.Err, &ne) && ne.Timeout())
}

// Temporary is here to satisfy [net.Error]; like the net package's, it is deprecated.
func (e *Error) Temporary() bool { return e.Timeout() }

var _ net.Error = (*Error)(nil)

// wrapErr turns an error from the socket layer into an *Error with a hint. It returns
// err unchanged when it is nil, io.EOF, or already one of this package's errors.
func wrapErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var (
		se *Error
		ce *CloseKeyError
		me *MessageSizeError
		ne *NetworkError
	)
	if errors.As(err, &se) || errors.As(err, &ce) || errors.As(err, &me) || errors.As(err, &ne) {
		return err
	}
	return &Error{Op: op, Err: err, Hint: hintFor(op, err)}
}

// hintFor says, in a few words, what a person can do about err.
func hintFor(op string, err error) string {
	switch {
	case errors.Is(err, net.ErrClosed):
		if op == "accept" {
			return "the listener was closed"
		}
		return "the conversation was closed by this program; Dial or Accept a new one"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "the deadline passed; the conversation is still usable: retry, or allow more time"
	case errors.Is(err, syscall.EADDRINUSE):
		return "another program, or an earlier run of this one, holds this address; stop it, pick another port, or remove a stale unix socket file"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing is listening there; start the server first and check the host and port"
	case errors.Is(err, syscall.ECONNRESET):
		return "the peer closed the connection abruptly; messages in flight may be lost"
	case errors.Is(err, syscall.EPIPE):
		return "the peer has closed the connection; it will not read any more"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "permission denied; ports below 1024 need privileges, pick a port above 1023, or check the socket file's permissions"
	case errors.Is(err, syscall.ENOENT):
		return "no socket file at that path; start the server first and check the path"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "this machine has no such address; use an address of one of its interfaces, or 127.0.0.1"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the peer left in the middle of a message"
	}
	if h := tlsHint(err); h != "" {
		return h
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "the host name could not be resolved; check its spelling or use an IP address"
	}
	var addrErr *net.AddrError
	if errors.As(err, &addrErr) {
		return `addresses look like "host:port", "127.0.0.1:61000" or "[::1]:61000"`
	}
	return ""
}
