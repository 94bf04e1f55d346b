package sockmsg_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sockmsg/sockmsg"
)

// A server that answers every peer, with a limit on conversations, an idle timeout and a
// graceful shutdown when its context ends.
func ExampleServer() {
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &sockmsg.Server{
		MaxConversations: 100,
		IdleTimeout:      time.Minute,
		Handler: func(ctx context.Context, c *sockmsg.Conversation) error {
			for {
				msg, err := c.RecvContext(ctx) // ends when the server shuts down
				if err != nil {
					return err
				}
				if err := c.SendString("echo: " + string(msg)); err != nil {
					return err
				}
			}
		},
		OnError: func(c *sockmsg.Conversation, err error) {
			fmt.Println("server:", err) // a real server would log or count it
		},
	}
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	client, err := sockmsg.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	_ = client.SendString("merhaba")
	reply, _ := client.RecvString()
	fmt.Println(reply)

	shutdown()
	fmt.Println("Serve returned:", <-served)
	_, err = client.Recv()
	fmt.Println("client:", err)
	st := srv.Stats()
	fmt.Println("accepted:", st.Accepted, "handled:", st.Handled, "errors:", st.HandlerErrors)
	// Output:
	// echo: merhaba
	// Serve returned: <nil>
	// client: sockmsg: peer said goodbye with close key "bye"
	// accepted: 1 handled: 1 errors: 0
}

// The shortest server: Serve with the default options.
func ExampleServe() {
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	served := make(chan error, 1)
	go func() {
		served <- sockmsg.Serve(ctx, ln, func(ctx context.Context, c *sockmsg.Conversation) error {
			return c.SendString("hello from the server")
		})
	}()

	client, err := sockmsg.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	msg, _ := client.RecvString()
	fmt.Println(msg)
	shutdown()
	fmt.Println(<-served)
	// Output:
	// hello from the server
	// <nil>
}

// With RefuseWhenFull a busy server tells new peers to come back later, instead of
// keeping them waiting.
func ExampleServer_refuse() {
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	busy := make(chan struct{})
	srv := &sockmsg.Server{
		MaxConversations: 1,
		WhenFull:         sockmsg.RefuseWhenFull,
		Handler: func(ctx context.Context, c *sockmsg.Conversation) error {
			close(busy)
			<-ctx.Done() // holds the only slot until shutdown
			return ctx.Err()
		},
	}
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	first, err := sockmsg.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer first.Close()
	<-busy
	second, err := sockmsg.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer second.Close()
	msg, _ := second.RecvString()
	fmt.Println(msg)
	_, err = second.Recv()
	fmt.Println(errors.Is(err, sockmsg.ErrCloseKey))
	fmt.Println("refused:", srv.Stats().Refused)
	shutdown()
	<-served
	// Output:
	// busy: too many conversations, try again later
	// true
	// refused: 1
}
