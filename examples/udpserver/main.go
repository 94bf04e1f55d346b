// Command udpserver is examples/server over UDP: the tutorial's chat in turns, with
// datagrams (socket.SOCK_DGRAM, sendto and recvfrom) instead of a connection. It waits
// for one client, prints each message as "CLIENT: <message>", asks its operator for an
// answer after the prompt "-> " and sends it, until one side says a close key ("bye",
// "close", "quit", "q", "kapat", "exit"). Then it exits 0.
//
//	go run ./examples/udpserver     # in one terminal
//	go run ./examples/udpclient     # in another
//
// The defaults are the tutorial's: this machine's host name and port 61000. Flags:
//
//	-host name    host name or IP address to listen on (default: this machine's name);
//	              with -network unixgram, the socket file's path
//	-port n       port to listen on (default 61000; 0 picks a free one)
//	-network n    udp, udp4, udp6 or unixgram (default udp)
//
// What UDP changes, and what this program shows of it:
//
//   - There is no connection. Listen binds one socket; Accept returns a conversation
//     when the first datagram from a new address arrives, and that datagram is the
//     first message Recv returns. Every datagram is one message (Datagram framing), so
//     there is no -framing flag.
//   - Nothing tells the server that a client has gone: no end of stream, no reset. A
//     client that leaves without a close key leaves the server waiting until the
//     listener's idle timeout (5 minutes by default) ends the conversation, which is why
//     examples/udpclient says a close key on every way out (a close key, the end of its
//     input, Ctrl-C), and why Ctrl-C here says goodbye too.
//   - Datagrams may be lost. On this machine's loopback they are not, but across a
//     network a lost message would leave both sides waiting for their turn.
//
// The conversation is on standard output; notes (the address, who left and why) are on
// standard error. Answers may be typed or piped.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sockmsg/sockmsg"
	"github.com/sockmsg/sockmsg/examples/internal/turns"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("udpserver", flag.ExitOnError)
	fs.SetOutput(stderr)
	var f turns.Flags // -host, -port, -network
	f.Register(fs, "udp")
	idle := fs.Duration("idle-timeout", sockmsg.DefaultIdleTimeout, "end the conversation when the client has sent nothing for this long\n(UDP has no end of stream); negative: never")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits 2, -h exits 0

	// socket(AF_INET, SOCK_DGRAM) and bind() in one call; Datagram framing.
	cfg := &sockmsg.Config{IdleTimeout: *idle}
	ln, err := cfg.Listen(ctx, f.Network, f.Address())
	if err != nil {
		return err
	}
	// The conversation reads its datagrams through the listener's socket: keep it open
	// until the conversation is over.
	defer ln.Close()
	con := turns.NewConsole(stdin, stdout, stderr)
	con.Peer = "the client"
	con.Notef("listening on %s (%s); waiting for a client", ln.Addr(), f.Network)

	// The first datagram from a new address starts a conversation.
	conv, err := ln.AcceptContext(ctx)
	if ctx.Err() != nil {
		con.Notef("interrupted before any client came")
		return nil
	}
	if err != nil {
		return err
	}
	defer conv.Close()
	con.Notef("%s sent its first datagram", conv.RemoteAddr())

	// The client speaks first; the server answers.
	for {
		if over, err := con.Hear(ctx, conv, "CLIENT: "); over || err != nil {
			return err
		}
		if over, err := con.Speak(ctx, conv); over || err != nil {
			return err
		}
	}
}
