package sockmsg_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/sockmsg/sockmsg"
)

// A UDP conversation reads like a TCP one. The difference: a UDP listener learns of a
// peer from its first datagram, so the client speaks first.
func ExampleListen_udp() {
	ln, err := sockmsg.Listen("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()

	client, err := sockmsg.Dial("udp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.SendString("merhaba"); err != nil {
		log.Fatal(err)
	}

	conv, err := ln.Accept() // the conversation with the client's address
	if err != nil {
		log.Fatal(err)
	}
	defer conv.Close()
	msg, err := conv.RecvString()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("server got:", msg)
	if err := conv.SendString("hoş geldin"); err != nil {
		log.Fatal(err)
	}
	reply, err := client.RecvString()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("client got:", reply)

	// UDP has no end of stream: a close key is how the server learns the client left.
	if err := client.Goodbye("kapat"); err != nil {
		log.Fatal(err)
	}
	_, err = conv.Recv()
	fmt.Println("client said goodbye:", errors.Is(err, sockmsg.ErrCloseKey))
	// Output:
	// server got: merhaba
	// client got: hoş geldin
	// client said goodbye: true
}

// A peer that goes silent for longer than IdleTimeout loses its conversation; its next
// datagram starts a new one.
func ExampleConfig_idleTimeout() {
	cfg := &sockmsg.Config{IdleTimeout: 50 * time.Millisecond}
	ln, err := cfg.Listen(context.Background(), "udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	client, err := sockmsg.Dial("udp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	for _, msg := range []string{"first", "second"} {
		if err := client.SendString(msg); err != nil {
			log.Fatal(err)
		}
		conv, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		got, err := conv.RecvString()
		if err != nil {
			log.Fatal(err)
		}
		_, err = conv.Recv() // the client says nothing more
		fmt.Printf("%s, then idle: %v, a deadline: %v\n", got,
			errors.Is(err, sockmsg.ErrIdleTimeout), errors.Is(err, os.ErrDeadlineExceeded))
		conv.Close()
	}
	fmt.Println("conversations:", ln.Stats().Accepted)
	// Output:
	// first, then idle: true, a deadline: false
	// second, then idle: true, a deadline: false
	// conversations: 2
}

// Unix datagram sockets work the same way, with a file path for an address. The dialled
// side is bound to a temporary path of its own, so that the server can answer it.
func ExampleDial_unixgram() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, err := sockmsg.Listen("unixgram", filepath.Join(dir, "server.sock"))
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()

	client, err := sockmsg.Dial("unixgram", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.SendString("ping"); err != nil {
		log.Fatal(err)
	}
	conv, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}
	defer conv.Close()
	ping, err := conv.RecvString()
	if err != nil {
		log.Fatal(err)
	}
	if err := conv.SendString("pong"); err != nil {
		log.Fatal(err)
	}
	pong, err := client.RecvString()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ping, pong, conv.Framing())
	// Output: ping pong datagram
}
