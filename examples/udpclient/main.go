// Command udpclient is examples/client over UDP: the tutorial's chat in turns, with
// datagrams (socket.SOCK_DGRAM, sendto and recvfrom) instead of a connection. It asks its
// operator for a message after the prompt "-> ", sends it, and prints the server's answer
// as "SUNUCU > <answer>", until one side says a close key ("bye", "close", "quit", "q",
// "kapat", "exit"). Then it exits 0.
//
//	go run ./examples/udpserver     # in one terminal
//	go run ./examples/udpclient     # in another
//
// The defaults are the tutorial's: this machine's host name and port 61000. Flags:
//
//	-host name    host name or IP address of the server (default: this machine's name);
//	              with -network unixgram, the socket file's path
//	-port n       the server's port (default 61000)
//	-network n    udp, udp4, udp6 or unixgram (default udp)
//
// What UDP changes, and what this program shows of it:
//
//   - There is no connection. Dial sends nothing: it only fixes the address every
//     datagram goes to. If no server is there, the first Send still succeeds, and the
//     error comes on Recv (on this machine, the kernel's "port unreachable" answer
//     becomes "connection refused"; across a network there may be no answer at all).
//   - The server cannot see a client leave, so this client always says goodbye with a
//     close key before it closes: when its operator types one, at the end of its input
//     (Ctrl-D, the end of a pipe), and on Ctrl-C.
//
// The conversation is on standard output; notes on standard error. Messages may be typed
// or piped:
//
//	printf 'merhaba\nbye\n' | go run ./examples/udpclient
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
		fmt.Fprintln(os.Stderr, "udpclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("udpclient", flag.ExitOnError)
	fs.SetOutput(stderr)
	var f turns.Flags // -host, -port, -network
	f.Register(fs, "udp")
	_ = fs.Parse(args) // ExitOnError: a bad flag exits 2, -h exits 0

	// socket(AF_INET, SOCK_DGRAM), with every datagram going to address. A nil Config:
	// Datagram framing.
	conv, err := sockmsg.DialContext(ctx, f.Network, f.Address())
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
