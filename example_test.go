package sockmsg_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/sockmsg/sockmsg"
)

// A server and a client exchange messages over TCP, as the tutorial's server.py and
// client.py do, until the client says a close key.
func Example() {
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0") // socket(), bind(), listen()
	if err != nil {
		panic(err)
	}
	defer ln.Close()

	done := make(chan struct{})
	go func() { // the server
		defer close(done)
		conv, err := ln.Accept() // accept()
		if err != nil {
			panic(err)
		}
		defer conv.Close()
		for {
			msg, err := conv.RecvString() // recv()
			if errors.Is(err, sockmsg.ErrCloseKey) {
				fmt.Println("server: the client said goodbye")
				return
			}
			if err != nil {
				panic(err)
			}
			fmt.Println("CLIENT:", msg)
			if err := conv.SendString("merhaba, " + msg); err != nil { // send()
				panic(err)
			}
		}
	}()

	conv, err := sockmsg.Dial("tcp", ln.Addr().String()) // socket(), connect()
	if err != nil {
		panic(err)
	}
	for _, line := range []string{"Ayşe", "Gökçe"} {
		if err := conv.SendString(line); err != nil {
			panic(err)
		}
		reply, err := conv.RecvString()
		if err != nil {
			panic(err)
		}
		fmt.Println("SUNUCU >", reply)
	}
	if err := conv.Goodbye("kapat"); err != nil { // send a close key, then close()
		panic(err)
	}
	<-done
	// Output:
	// CLIENT: Ayşe
	// SUNUCU > merhaba, Ayşe
	// CLIENT: Gökçe
	// SUNUCU > merhaba, Gökçe
	// server: the client said goodbye
}

// converse dials the listener with cfg, runs client on the conversation, and runs server
// on the accepted one; it returns when both are done.
func converse(ln *sockmsg.Listener, cfg *sockmsg.Config, server, client func(*sockmsg.Conversation)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		conv, err := ln.Accept()
		if err != nil {
			panic(err)
		}
		defer conv.Close()
		server(conv)
	}()
	conv, err := cfg.Dial(context.Background(), ln.Addr().Network(), ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer conv.Close()
	client(conv)
	<-done
}

// Lines framing, the default on streams, ends each message with a newline, so a peer
// may be a plain socket, nc or telnet. "\r\n" endings are stripped too.
func ExampleLines() {
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		conv, err := ln.Accept()
		if err != nil {
			panic(err)
		}
		defer conv.Close()
		for {
			msg, err := conv.RecvString()
			if err == io.EOF {
				return
			}
			if err != nil {
				panic(err)
			}
			fmt.Printf("%q\n", msg)
		}
	}()
	// What a terminal program would send: one write, three lines.
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	if _, err := raw.Write([]byte("selam\r\nnasılsın?\nson satır\n")); err != nil {
		panic(err)
	}
	raw.Close()
	<-done

	// Send refuses what the framing cannot carry, and sends nothing.
	conv, err := sockmsg.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer conv.Close()
	err = conv.SendString("two\nlines")
	fmt.Println(errors.Is(err, sockmsg.ErrInvalidMessage))
	// Output:
	// "selam"
	// "nasılsın?"
	// "son satır"
	// true
}

// LengthPrefixed framing carries any bytes, newlines and empty messages included.
func ExampleLengthPrefixed() {
	cfg := &sockmsg.Config{Framing: sockmsg.LengthPrefixed}
	ln, err := cfg.Listen(context.Background(), "unix", tempSocketPath())
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	converse(ln, cfg, func(server *sockmsg.Conversation) {
		for range 3 {
			msg, err := server.Recv()
			if err != nil {
				panic(err)
			}
			fmt.Printf("%d bytes: %q\n", len(msg), msg)
		}
	}, func(client *sockmsg.Conversation) {
		for _, m := range [][]byte{[]byte("line one\nline two"), {}, {0x00, 0xff}} {
			if err := client.Send(m); err != nil {
				panic(err)
			}
		}
	})
	// Output:
	// 17 bytes: "line one\nline two"
	// 0 bytes: ""
	// 2 bytes: "\x00\xff"
}

// Raw framing is the tutorial's conn.recv(1024*5): each read is one message. Use it to
// talk to programs that do not frame their messages, in strict turns.
func ExampleRaw() {
	cfg := &sockmsg.Config{Framing: sockmsg.Raw, MaxMessageSize: 5120}
	ln, err := cfg.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	converse(ln, cfg, func(server *sockmsg.Conversation) {
		msg, err := server.RecvString()
		if err != nil {
			panic(err)
		}
		fmt.Println("CLIENT:", msg)
		if err := server.SendString("iyiyim"); err != nil {
			panic(err)
		}
	}, func(client *sockmsg.Conversation) {
		if err := client.SendString("nasılsın?"); err != nil {
			panic(err)
		}
		reply, err := client.RecvString()
		if err != nil {
			panic(err)
		}
		fmt.Println("SUNUCU >", reply)
	})
	// Output:
	// CLIENT: nasılsın?
	// SUNUCU > iyiyim
}

func ExampleIsCloseKey() {
	for _, text := range []string{"bye", "EXİT", "  Kapat\n", "exıt", "bye now", "çıkış"} {
		fmt.Printf("%q %v\n", text, sockmsg.IsCloseKey(text))
	}
	// Output:
	// "bye" true
	// "EXİT" true
	// "  Kapat\n" true
	// "exıt" true
	// "bye now" false
	// "çıkış" false
}

// A peer that says a close key and a peer that just leaves are told apart.
func ExampleCloseKeyError() {
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	for _, leave := range []func(*sockmsg.Conversation){
		func(c *sockmsg.Conversation) { _ = c.SendString("QUİT") },
		func(c *sockmsg.Conversation) { _ = c.Close() },
	} {
		converse(ln, nil, func(server *sockmsg.Conversation) {
			_, err := server.Recv()
			var ck *sockmsg.CloseKeyError
			switch {
			case errors.As(err, &ck):
				fmt.Printf("goodbye with %q (key %q)\n", ck.Text, ck.Key)
			case err == io.EOF:
				fmt.Println("left without a word")
			}
		}, leave)
	}
	// Output:
	// goodbye with "QUİT" (key "quit")
	// left without a word
}

// Errors from the socket carry a hint and still match the system's error numbers.
func ExampleError() {
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := ln.Addr().String()
	ln.Close() // now nothing listens there

	_, err = sockmsg.Dial("tcp", addr)
	fmt.Println(errors.Is(err, syscall.ECONNREFUSED))
	var se *sockmsg.Error
	if errors.As(err, &se) {
		fmt.Println(se.Op, "failed:", se.Hint)
	}

	_, err = sockmsg.Dial("x25", "somewhere")
	fmt.Println(errors.Is(err, sockmsg.ErrUnsupportedNetwork))
	// Output:
	// true
	// dial failed: nothing is listening there; start the server first and check the host and port
	// true
}

// A context bounds one Recv without ending the conversation.
func ExampleConversation_RecvContext() {
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	converse(ln, nil, func(server *sockmsg.Conversation) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_, err := server.RecvContext(ctx)
		fmt.Println(errors.Is(err, context.DeadlineExceeded))
		if err := server.SendString("hâlâ buradayım"); err != nil {
			panic(err)
		}
	}, func(client *sockmsg.Conversation) {
		msg, err := client.RecvString()
		if err != nil {
			panic(err)
		}
		fmt.Println(msg)
	})
	// Output:
	// true
	// hâlâ buradayım
}

// AppendRecv reuses one buffer for every message.
func ExampleConversation_AppendRecv() {
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	converse(ln, nil, func(server *sockmsg.Conversation) {
		buf := make([]byte, 0, 1024)
		for {
			var err error
			buf, err = server.AppendRecv(buf[:0])
			if err != nil {
				fmt.Println(err == io.EOF)
				return
			}
			fmt.Println(string(buf))
		}
	}, func(client *sockmsg.Conversation) {
		for _, m := range []string{"bir", "iki", "üç"} {
			if err := client.SendString(m); err != nil {
				panic(err)
			}
		}
		client.Close()
	})
	// Output:
	// bir
	// iki
	// üç
	// true
}
