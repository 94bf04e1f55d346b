// Command echo is a server of many clients at once that sends every message back to the
// client that sent it, until the client says a close key ("bye", "close", "quit", "q",
// "kapat", "exit") or leaves. It is where the tutorial's one-client server.py goes next:
// the same Listen and Accept, with one goroutine per conversation.
//
//	go run ./examples/echo                        # listens on 127.0.0.1:61000
//	nc 127.0.0.1 61000                            # in other terminals: type lines, then bye
//	go run ./examples/client -host 127.0.0.1 -framing lines
//
// Flags:
//
//	-addr a       address to listen on (default 127.0.0.1:61000; port 0 picks a free
//	              one); with -network unix, the socket file's path
//	-network n    tcp, tcp4, tcp6 or unix (default tcp)
//	-framing f    lines, raw or length (default lines, which nc and telnet speak)
//
// It writes "listening on <address>" to standard error when it is ready, then a line
// when a client comes or goes. On Ctrl-C (SIGINT) or SIGTERM it shuts down gracefully:
// it stops accepting, says goodbye to every client still connected with the close key
// "bye", waits for their conversations to end, and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/sockmsg/sockmsg"
	"github.com/sockmsg/sockmsg/examples/internal/serving"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	fs.SetOutput(stderr)
	var f serving.Flags // -addr, -network, -framing
	f.Register(fs)
	_ = fs.Parse(args) // ExitOnError: a bad flag exits 2, -h exits 0

	framing, err := f.Framing()
	if err != nil {
		return err
	}
	cfg := &sockmsg.Config{Framing: framing}
	ln, err := cfg.Listen(ctx, f.Network, f.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "listening on %s\n", ln.Addr())

	err = serving.Serve(ctx, ln, func(conv *sockmsg.Conversation) {
		fmt.Fprintf(stderr, "%s connected\n", conv.RemoteAddr())
		fmt.Fprintf(stderr, "%s %s\n", conv.RemoteAddr(), echo(conv))
	})
	fmt.Fprintln(stderr, "shut down")
	return err
}

// echo sends every message back until the conversation ends, and says how it ended.
func echo(conv *sockmsg.Conversation) string {
	var buf []byte
	for {
		var err error
		buf, err = conv.AppendRecv(buf[:0]) // one buffer for the whole conversation
		var bye *sockmsg.CloseKeyError
		switch {
		case errors.As(err, &bye):
			return fmt.Sprintf("said goodbye (%q)", bye.Text)
		case err == io.EOF:
			return "left"
		case errors.Is(err, net.ErrClosed):
			return "was told goodbye: the server is shutting down"
		case err != nil:
			return fmt.Sprintf("failed: %v", err)
		}
		if err := conv.Send(buf); err != nil {
			return fmt.Sprintf("failed: %v", err)
		}
	}
}
