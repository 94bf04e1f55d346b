// Command client is the tutorial's client.py in Go: it connects to the server, then the
// two take turns, the client first. The client asks its operator for a message after the
// prompt "-> ", sends it, and prints the server's answer as "SUNUCU > <answer>", until one
// side says a close key ("bye", "close", "quit", "q", "kapat", "exit") or leaves. Then it
// exits 0.
//
//	go run ./examples/server        # in one terminal
//	go run ./examples/client        # in another
//
// With no flags it does what client.py does: it connects to this machine's host name
// (socket.gethostname()) and port 61000, over TCP, and reads each answer with one read of
// up to 5120 bytes (server.recv(1024*5)), so it can talk to the original server.py, and
// the original client.py can talk to this program's server. Flags change that:
//
//	-host name    host name or IP address of the server (default: this machine's name);
//	              with -network unix, the socket file's path
//	-port n       the server's port (default 61000)
//	-network n    tcp, tcp4, tcp6 or unix (default tcp)
//	-framing f    raw, lines or length (default raw, the tutorial's wire format); both
//	              sides must agree
//
// The conversation is on standard output; notes (who left and why) are on standard
// error. Messages may be typed or piped:
//
//	printf 'merhaba\nnasılsın?\nbye\n' | go run ./examples/client
//
// What it fixes in client.py: a close key is sent to the server before the client
// leaves (client.py just closes, and server.py then loops forever), so even the original
// server.py ends cleanly; the end of the input (Ctrl-D, the end of a pipe) and Ctrl-C say
// goodbye the same way; a close key from the server ends the conversation; an empty line
// is not sent (client.py's send(b"") sends nothing and then waits for an answer forever).
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
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	fs.SetOutput(stderr)
	var f turns.Flags // -host, -port, -network, -framing
	f.Register(fs, "tcp")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits 2, -h exits 0
	framing, err := f.Framing()
	if err != nil {
		return err
	}

	// socket() and connect() in one call; one read of up to 5120 bytes (the tutorial's
	// recv(1024*5)) is one message with Raw framing.
	cfg := &sockmsg.Config{Framing: framing, MaxMessageSize: turns.MaxMessageSize}
	conv, err := cfg.Dial(ctx, f.Network, f.Address())
	if err != nil {
		return err
	}
	defer conv.Close()
	con := turns.NewConsole(stdin, stdout, stderr)
	con.Peer = "the server"

	// The client speaks first; the server answers.
	for {
		if over, err := con.Speak(ctx, conv); over || err != nil {
			return err
		}
		if over, err := con.Hear(ctx, conv, "SUNUCU > "); over || err != nil {
			return err
		}
	}
}
