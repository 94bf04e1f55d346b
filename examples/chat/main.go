// Command chat is a small chat room: every message a client sends goes to every other
// client in the room, until the client says a close key ("bye", "close", "quit", "q",
// "kapat", "exit") or leaves. It is what the tutorial's one-to-one server.py grows into
// when it keeps every conversation it accepts and passes messages between them.
//
//	go run ./examples/chat                         # listens on 127.0.0.1:61000
//	nc 127.0.0.1 61000                             # in two or more terminals
//
// Each client is named by its address. When it joins, it is welcomed and the others are
// told "* 127.0.0.1:50412 joined"; its messages reach the others as
// "127.0.0.1:50412: merhaba"; when it leaves they are told "* 127.0.0.1:50412 left". A
// client that does not take its messages within a second (the Server's WriteTimeout) is
// dropped, so that it cannot hold up the room.
//
// Flags:
//
//	-addr a       address to listen on (default 127.0.0.1:61000; port 0 picks a free
//	              one); with -network unix, the socket file's path
//	-network n    tcp, tcp4, tcp6 or unix (default tcp)
//	-framing f    lines, raw or length (default lines, which nc and telnet speak)
//
// It writes "listening on <address>" to standard error when it is ready, then a line
// when a client joins or leaves. On Ctrl-C (SIGINT) or SIGTERM it says goodbye to every
// client with the close key "bye", waits for their conversations to end, and exits 0.
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
	"sync"
	"syscall"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/sockmsg/sockmsg/examples/internal/serving"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ExitOnError)
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

	room := &room{members: make(map[*sockmsg.Conversation]string)}
	srv := &sockmsg.Server{
		Handler: func(ctx context.Context, conv *sockmsg.Conversation) error {
			name := conv.RemoteAddr().String()
			others := room.join(conv, name)
			fmt.Fprintf(stderr, "%s joined\n", name)
			room.send(conv, fmt.Sprintf("* welcome, %s; %d others here; say bye to leave", name, others))
			why, err := room.listen(ctx, conv, name)
			// In a shutdown the Server says goodbye to everyone: no need to tell them.
			room.leave(conv, name, ctx.Err() == nil)
			fmt.Fprintf(stderr, "%s left: %s\n", name, why)
			return err
		},
		// A member that does not take a message within a second is dropped, so that it
		// cannot hold up the room: its Send fails, and send closes its conversation.
		WriteTimeout: time.Second,
		OnError:      serving.Report(stderr), // the library logs nothing itself
	}
	err = srv.Serve(ctx, ln) // until Ctrl-C or SIGTERM; then the graceful shutdown
	fmt.Fprintln(stderr, "shut down")
	return err
}

// room is the set of conversations in the chat, with their names.
type room struct {
	mu      sync.Mutex
	members map[*sockmsg.Conversation]string
}

// join adds conv to the room, tells the others, and returns how many others there are.
func (r *room) join(conv *sockmsg.Conversation, name string) int {
	r.broadcast(nil, "* "+name+" joined")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.members[conv] = name
	return len(r.members) - 1
}

// leave takes conv out of the room and, if tell, tells the others.
func (r *room) leave(conv *sockmsg.Conversation, name string, tell bool) {
	r.mu.Lock()
	delete(r.members, conv)
	r.mu.Unlock()
	if tell {
		r.broadcast(nil, "* "+name+" left")
	}
}

// listen passes every message conv sends to the others until conv's conversation ends,
// and says how it ended. It returns an error only for a failure; the Server reports it.
func (r *room) listen(ctx context.Context, conv *sockmsg.Conversation, name string) (string, error) {
	for {
		msg, err := conv.RecvContext(ctx) // ctx ends when the server shuts down
		var bye *sockmsg.CloseKeyError
		switch {
		case errors.As(err, &bye):
			return fmt.Sprintf("said goodbye (%q)", bye.Text), nil
		case err == io.EOF:
			return "disconnected", nil
		case ctx.Err() != nil:
			return "the server is shutting down", nil
		case errors.Is(err, net.ErrClosed):
			return "dropped: it did not take its messages in time", nil
		case err != nil:
			return "failed", err
		}
		r.broadcast(conv, name+": "+string(msg))
	}
}

// broadcast sends text to every member but from (nil: to all).
func (r *room) broadcast(from *sockmsg.Conversation, text string) {
	r.mu.Lock()
	to := make([]*sockmsg.Conversation, 0, len(r.members))
	for conv := range r.members {
		if conv != from {
			to = append(to, conv)
		}
	}
	r.mu.Unlock()
	for _, conv := range to {
		r.send(conv, text)
	}
}

// send sends text to one member, and drops the member if it cannot take it in time (the
// Server's WriteTimeout) or has gone: closing its conversation ends its listen loop,
// which takes it out of the room. A text the framing cannot carry (too large once the
// sender's name is added) is not sent, and the member stays.
func (r *room) send(conv *sockmsg.Conversation, text string) {
	err := conv.SendString(text)
	if err != nil && !errors.Is(err, sockmsg.ErrInvalidMessage) && !errors.Is(err, sockmsg.ErrMessageTooLarge) {
		conv.Close()
	}
}
