// Package serving holds what examples/echo and examples/chat share: their flags, and how
// they report the failures their sockmsg.Server meets.
package serving

import (
	"flag"
	"fmt"
	"io"

	"github.com/sockmsg/sockmsg"
)

// Flags are the command-line flags the servers of many clients share.
type Flags struct {
	Addr    string
	Network string
	framing string
}

// Register defines -addr (default 127.0.0.1:61000), -network (default tcp) and -framing
// (default lines) on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Addr, "addr", "127.0.0.1:61000", "address to listen on (port 0 picks a free port); with -network unix, the socket file's path")
	fs.StringVar(&f.Network, "network", "tcp", "tcp, tcp4, tcp6 or unix")
	fs.StringVar(&f.framing, "framing", "lines", "lines (what nc and telnet speak), raw or length")
}

// Framing returns the framing -framing names.
func (f *Flags) Framing() (sockmsg.Framing, error) { return sockmsg.ParseFraming(f.framing) }

// Report returns a [sockmsg.Server] OnError hook that writes every failure to w, on a
// line of its own, after the peer's address.
func Report(w io.Writer) func(*sockmsg.Conversation, error) {
	return func(conv *sockmsg.Conversation, err error) {
		if conv == nil { // a failed Accept, which the Server retries
			fmt.Fprintf(w, "accept: %v\n", err)
			return
		}
		fmt.Fprintf(w, "%s: %v\n", conv.RemoteAddr(), err)
	}
}
