// Command hello is sockmsg in one program: it starts a server and a client on this
// machine, lets them chat in turns as the tutorial's server.py and client.py do, and
// ends when the client says a close key. It needs no flags and no second terminal:
//
//	go run ./examples/hello
//
// For the two programs of the tutorial, run ./examples/server and ./examples/client.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sockmsg/sockmsg"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

func run() error {
	// socket(), bind() and listen() in one call; port 0 picks a free port.
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println("server listening on", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- serve(ln) }()

	// socket() and connect() in one call.
	conv, err := sockmsg.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	for _, line := range []string{"merhaba", "nasılsın?", "EXİT"} {
		fmt.Println("-> " + line)
		if sockmsg.IsCloseKey(line) {
			// Say the close key, then close: the server ends cleanly.
			if err := conv.Goodbye(line); err != nil {
				return err
			}
			break
		}
		if err := conv.SendString(line); err != nil {
			return err
		}
		reply, err := conv.RecvString()
		if err != nil {
			return err
		}
		fmt.Println("SUNUCU >", reply)
	}
	return <-served
}

// serve accepts one client and answers it until it says goodbye or leaves.
func serve(ln *sockmsg.Listener) error {
	conv, err := ln.Accept()
	if err != nil {
		return err
	}
	defer conv.Close()
	for {
		msg, err := conv.RecvString()
		var ck *sockmsg.CloseKeyError
		switch {
		case errors.As(err, &ck):
			fmt.Printf("server: the client said %q, goodbye\n", ck.Text)
			return nil
		case err == io.EOF:
			fmt.Println("server: the client left")
			return nil
		case err != nil:
			return err
		}
		fmt.Println("CLIENT:", msg)
		if err := conv.SendString(fmt.Sprintf("%q aldım", msg)); err != nil {
			return err
		}
	}
}
