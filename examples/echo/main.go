// Command echo is a server of many clients at once that sends every message back to the
// client that sent it, until the client says a close key ("bye", "close", "quit", "q",
// "kapat", "exit") or leaves. It is where the tutorial's one-client server.py goes next:
// the same Listen, with the library's Server accepting every client and running a
// handler for each in its own goroutine.
//
//	go run ./examples/echo                        # listens on 127.0.0.1:61000
//	nc 127.0.0.1 61000                            # in other terminals: type lines, then bye
//	go run ./examples/client -host 127.0.0.1 -framing lines
//
// Flags:
//
//	-addr a                address to listen on (default 127.0.0.1:61000; port 0 picks a
//	                       free one); with -network unix, the socket file's path
//	-network n             tcp, tcp4, tcp6 or unix (default tcp)
//	-framing f             lines, raw or length (default lines, which nc and telnet speak)
//	-max-conversations n   clients served at once (default 1024); the next ones wait,
//	                       connected, until one of those leaves
//	-idle-timeout d        say goodbye to a client that sends nothing for this long, such
//	                       as 30s or 5m (default 0: never)
//	-cert file, -key file  serve TLS with this PEM certificate and key (default: plaintext);
//	                       try it with: openssl s_client -quiet -connect 127.0.0.1:61000
//
// It writes "listening on <address>" to standard error when it is ready, then a line
// when a client comes or goes, and one for every failure. On Ctrl-C (SIGINT) or SIGTERM
// it shuts down gracefully: it stops accepting, says goodbye to every client still
// connected with the close key "bye", waits for their conversations to end, and exits 0.
package main

import (
	"context"
	"crypto/tls"
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
	maxConversations := fs.Int("max-conversations", sockmsg.DefaultMaxConversations, "clients served at once; the next ones wait until one leaves")
	idleTimeout := fs.Duration("idle-timeout", 0, "say goodbye to a client silent for this long (0: never)")
	certFile := fs.String("cert", "", "PEM certificate file: serve TLS (needs -key)")
	keyFile := fs.String("key", "", "PEM private key file of -cert")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits 2, -h exits 0

	framing, err := f.Framing()
	if err != nil {
		return err
	}
	cfg := &sockmsg.Config{Framing: framing}
	if *certFile != "" || *keyFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("-cert and -key: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	ln, err := cfg.Listen(ctx, f.Network, f.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "listening on %s\n", ln.Addr())

	srv := &sockmsg.Server{
		Handler: func(ctx context.Context, conv *sockmsg.Conversation) error {
			fmt.Fprintf(stderr, "%s connected\n", conv.RemoteAddr())
			how, err := echo(ctx, conv)
			fmt.Fprintf(stderr, "%s %s\n", conv.RemoteAddr(), how)
			return err
		},
		MaxConversations: *maxConversations,
		IdleTimeout:      *idleTimeout,
		OnError:          serving.Report(stderr), // the library logs nothing itself
	}
	err = srv.Serve(ctx, ln) // until Ctrl-C or SIGTERM; then the graceful shutdown
	fmt.Fprintln(stderr, "shut down")
	return err
}

// echo sends every message back until the conversation ends, and says how it ended. It
// returns an error only for a failure; the Server reports it.
func echo(ctx context.Context, conv *sockmsg.Conversation) (string, error) {
	var msg []byte // reused for every message: no allocation per echo
	for {
		// With ctx, so that a shutdown (ctx ends) stops the wait at once; the Server
		// then says goodbye after the last echo this handler sent.
		var err error
		msg, err = conv.AppendRecvContext(ctx, msg[:0])
		var bye *sockmsg.CloseKeyError
		switch {
		case errors.As(err, &bye):
			return fmt.Sprintf("said goodbye (%q)", bye.Text), nil
		case err == io.EOF:
			return "left", nil
		case ctx.Err() != nil:
			return "was told goodbye: the server is shutting down", nil
		case errors.Is(err, net.ErrClosed):
			return "was told goodbye by the server", nil
		case err != nil:
			return "failed", err
		}
		if err := conv.Send(msg); err != nil {
			return "failed", err
		}
	}
}
