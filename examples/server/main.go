// Command server is the tutorial's server.py in Go: it waits for one client, then the
// two take turns, the client first. The server prints each message as "CLIENT: <message>",
// asks its operator for an answer after the prompt "-> " and sends it, until one side says
// a close key ("bye", "close", "quit", "q", "kapat", "exit") or leaves. Then it exits 0.
//
//	go run ./examples/server        # in one terminal
//	go run ./examples/client        # in another
//
// With no flags it does what server.py does: it listens on this machine's host name
// (socket.gethostname()) and port 61000, over TCP, and reads each message with one read
// of up to 5120 bytes (conn.recv(1024*5)), so the original client.py can talk to it, and
// this program's client can talk to the original server.py. Flags change that:
//
//	-host name    host name or IP address to listen on (default: this machine's name);
//	              with -network unix, the socket file's path
//	-port n       port to listen on (default 61000; 0 picks a free one)
//	-network n    tcp, tcp4, tcp6 or unix (default tcp)
//	-framing f    raw, lines or length (default raw, the tutorial's wire format); both
//	              sides must agree
//
// The conversation is on standard output; notes (the address it listens on, who left and
// why) are on standard error. Answers may be typed or piped:
//
//	printf 'merhaba\nnasılsın?\n' | go run ./examples/server -port 0
//
// What it fixes in server.py: a client that disconnects ends the conversation (server.py
// loops forever printing "CLIENT: "); the operator can say goodbye too, by typing a close
// key, ending the input (Ctrl-D) or pressing Ctrl-C: the server sends the close key and
// closes, instead of sending it as a message; an empty answer is not sent (server.py's
// send(b"") sends nothing and leaves the client waiting). Like server.py it serves one
// conversation and exits; see examples/echo and examples/chat for servers of many.
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
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	fs.SetOutput(stderr)
	var f turns.Flags // -host, -port, -network, -framing
	f.Register(fs, "tcp")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits 2, -h exits 0
	framing, err := f.Framing()
	if err != nil {
		return err
	}

	// socket(), bind() and listen() in one call; one read of up to 5120 bytes (the
	// tutorial's recv(1024*5)) is one message with Raw framing.
	cfg := &sockmsg.Config{Framing: framing, MaxMessageSize: turns.MaxMessageSize}
	ln, err := cfg.Listen(ctx, f.Network, f.Address())
	if err != nil {
		return err
	}
	defer ln.Close()
	con := turns.NewConsole(stdin, stdout, stderr)
	con.Peer = "the client"
	con.Notef("listening on %s (%s); waiting for a client", ln.Addr(), f.Network)

	// conn, addr = server.accept(); Ctrl-C stops the wait.
	conv, err := ln.AcceptContext(ctx)
	if ctx.Err() != nil {
		con.Notef("interrupted before any client came")
		return nil
	}
	if err != nil {
		return err
	}
	defer conv.Close()
	// One conversation, as in server.py: close the listening socket now, so that a
	// second client is refused at once instead of waiting in the backlog for nothing.
	ln.Close()
	con.Notef("%s connected", conv.RemoteAddr())

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
