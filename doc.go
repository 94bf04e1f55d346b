// Package sockmsg lets two programs talk in whole messages over TCP, unix sockets and
// UDP. It is the Python tutorial "PYTHON İLE SOCKET PROGRAMLAMA" (socket, bind, listen,
// accept, connect, send, recv, close) done the Go way, and this documentation walks the
// same road, from the first socket to a complete chat program.
//
// A server listens and accepts a [Conversation]; a client dials one; both sides then
// [Conversation.Send] and [Conversation.Recv] messages until one of them says a close key
// ("bye", "close", "quit", "q", "kapat", "exit") or leaves:
//
//	ln, err := sockmsg.Listen("tcp", "127.0.0.1:61000")   // socket + bind + listen
//	conv, err := ln.Accept()                               // accept
//	msg, err := conv.RecvString()                          // recv
//	err = conv.SendString("merhaba")                       // send
//
//	conv, err := sockmsg.Dial("tcp", "127.0.0.1:61000")    // socket + connect
//
// # TCP or UDP
//
// TCP (a "stream" socket, socket.SOCK_STREAM in Python) delivers every byte, in order,
// or tells you the connection broke. UDP (a "datagram" socket, socket.SOCK_DGRAM) sends
// separate packets that may be lost, duplicated or reordered, and never tells you; it is
// faster to start and has no connection to set up. Choose TCP unless you know why you
// want UDP. In sockmsg both give you the same [Conversation]; only the promises differ.
//
// # Socket families and network names
//
// Python names the family (socket.AF_INET) and the type (SOCK_STREAM) separately. Go, and
// sockmsg, name both at once with a network string, as [net.Dial] does:
//
//	"tcp", "tcp4", "tcp6"     TCP over IPv4 or IPv6, IPv4 only (AF_INET), IPv6 only (AF_INET6)
//	"unix"                    a stream over a unix socket file (AF_UNIX, PF_UNIX): same machine only
//	"udp", "udp4", "udp6"     UDP, as above
//	"unixgram"                datagrams over a unix socket file
//
// PF_INET is the same as AF_INET. X.25 (PX_X25 in the tutorial) is a network of the
// 1970s that Go cannot open; like any unknown name it fails with an [ErrUnsupportedNetwork]
// error that lists the names above. Addresses are "host:port" ("127.0.0.1:61000",
// "[::1]:61000", "localhost:61000") for IP networks and a file path for unix networks.
//
// # Creating a socket
//
// Python creates a socket first (socket.socket()) and then decides what it is for. In Go
// the two steps are one: [Listen] makes a listening socket, [Dial] a connected one, so a
// socket can never be half set up. Options go in a [Config]; a nil *Config means the
// defaults, and each field's default is written beside it:
//
//	cfg := &sockmsg.Config{Framing: sockmsg.LengthPrefixed, MaxMessageSize: 1 << 20}
//	ln, err := cfg.Listen(ctx, "tcp", ":61000")
//
// # Server calls: bind, listen, accept
//
// s.bind((host, port)) and s.listen(5) are [Listen]: it binds the address and starts
// listening in one call, with the system's backlog. A port of 0 asks the system for a
// free port; [Listener.Addr] tells which. Binding a port another program holds fails with
// an error matching syscall.EADDRINUSE and a hint.
//
// conn, addr = s.accept() is [Listener.Accept]: it waits for a client and returns a
// [Conversation] with it; [Conversation.RemoteAddr] is the tutorial's addr. Call Accept
// in a loop to serve client after client; [Listener.AcceptContext] stops waiting when a
// context ends, and [Listener.Close] stops the listener and wakes a waiting Accept.
//
// # Client calls: connect
//
// s.connect((host, port)) is [Dial], or [DialContext] to give up when a context ends.
// Dialling a port where nothing listens fails with an error matching
// syscall.ECONNREFUSED and the hint to start the server first.
//
// # Sending and receiving
//
// s.send(msg) may send only part of msg and s.sendall(msg) loops until all is sent;
// [Conversation.Send] always sends the whole message or returns an error. s.recv(1024)
// returns whatever bytes have arrived, up to 1024; [Conversation.Recv] returns exactly one
// message, however the network cut it. [Conversation.SendString] and
// [Conversation.RecvString] do the encode() and decode() for UTF-8 text.
//
// To send many messages at once, [Conversation.SendBatch] gathers them into a few large
// writes: one system call for up to 64 KiB of frames instead of one per message.
//
// For a loop that must not allocate, [Conversation.AppendRecv] appends the next message to
// a buffer the caller reuses:
//
//	buf := make([]byte, 0, 4096)
//	for {
//		buf, err = conv.AppendRecv(buf[:0])
//		...
//	}
//
// # Framing: where a message ends
//
// A TCP connection carries a stream of bytes, not messages. Two quick sends may arrive as
// one recv and one large send as several: the tutorial's programs only work because they
// take strict turns and keep messages short. Both sides must agree where a message ends;
// [Config.Framing] picks how:
//
//   - [Lines], the default on streams: each message ends with "\n" (a "\r\n" is stripped
//     too). It is what nc and telnet speak. A message cannot contain a newline; Send
//     refuses one with [ErrInvalidMessage] and sends nothing.
//   - [LengthPrefixed]: a 4-byte big-endian length, then the bytes. Any data, binary
//     included, and empty messages.
//   - [Raw]: no framing at all; each read is one message, exactly like the tutorial's
//     conn.recv(1024*5). Use it only to talk to programs that do not frame, such as the
//     tutorial's server.py and client.py, and only in strict turns: it is unsafe for
//     general messaging, because messages can be glued together or cut apart in transit.
//   - [Datagram], the only framing of UDP: one datagram is one message.
//
// Every conversation has a maximum message size, [DefaultMaxMessageSize] (64 KiB) unless
// [Config.MaxMessageSize] says otherwise. Send refuses a larger message. A peer that
// announces a larger one is refused before its bytes are buffered (a 4 GiB length header
// costs nothing), Recv returns a [MessageSizeError] matching [ErrMessageTooLarge], and
// the conversation ends, since the rest of the stream can no longer be trusted.
//
// # Close keys: saying goodbye
//
// The tutorial's programs stop when someone types one of closeKeys = ('bye', 'close',
// 'quit', 'q', 'kapat', 'exit'). sockmsg knows these keys: when the peer sends one, Recv
// returns a [CloseKeyError] that matches [ErrCloseKey] and tells which key it was. A peer
// that simply leaves gives [io.EOF] instead, so a program can tell a goodbye from a
// disappearance:
//
//	msg, err := conv.RecvString()
//	switch {
//	case errors.Is(err, sockmsg.ErrCloseKey): // the peer said goodbye
//	case err == io.EOF:                       // the peer left without a word
//	case err != nil:                          // something broke
//	}
//
// Matching ignores surrounding white space and case, Turkish letters included: on a
// Turkish keyboard the capital of i is İ, so "EXİT" and "QUİT" are close keys, and so is
// "exıt" with a dotless ı. [IsCloseKey] answers for any text, and [CloseKey] also says
// which key it is. [Config.CloseKeys] replaces
// the set and [Config.DisableCloseKeys] turns detection off. [Conversation.Goodbye] sends a
// close key and closes, in one call.
//
// # Closing
//
// s.close() is [Conversation.Close] for a conversation and [Listener.Close] for a
// listener. Close wakes a Send or Recv blocked in another goroutine; they, and any later
// call, return an error matching [net.ErrClosed]. Closing twice returns such an error
// too, and never panics.
//
// # Errors
//
// Errors can be examined with [errors.Is] and [errors.As]:
//
//   - [ErrCloseKey] ([CloseKeyError]): the peer said goodbye.
//   - [io.EOF]: the peer closed the connection; returned as is, so err == io.EOF works.
//   - [ErrMessageTooLarge] ([MessageSizeError]): a message over the maximum size.
//   - [ErrInvalidMessage]: Send refused a message its framing cannot carry.
//   - [ErrUnsupportedNetwork] ([NetworkError]): a network name sockmsg cannot open.
//   - [ErrInvalidConfig]: a [Config] that cannot work.
//   - [Error]: the socket failed. It wraps the net package's error, so errors.Is(err,
//     syscall.ECONNREFUSED), syscall.EADDRINUSE, syscall.ECONNRESET, [net.ErrClosed] and
//     [os.ErrDeadlineExceeded] all work, and adds a hint a person can act on.
//
// A refused connection, for example, reads:
//
//	sockmsg: dial tcp 127.0.0.1:61000: connect: connection refused (nothing is listening there; start the server first and check the host and port)
//
// The tutorial's one recorded error, WinError 10057 ("a request to send or receive data
// was disallowed because the socket is not connected"), comes from calling send on the
// listening socket instead of on the conn that accept returned. In sockmsg that mistake
// does not compile: a [Listener] has no Send or Recv, only Accept, and the conversations
// it hands out are the only things that talk.
//
// # Deadlines and contexts
//
// [Conversation.SetDeadline], SetReadDeadline and SetWriteDeadline work as on a
// [net.Conn]: a call still running at the deadline returns an error matching
// [os.ErrDeadlineExceeded] (and [net.Error] with Timeout true), and the conversation stays
// usable. [Conversation.RecvContext] and [Conversation.SendContext] bound one call with a
// context instead; when it ends, that call returns the context's error and the
// conversation goes on. A message half received when the time ran out is kept and
// completed by the next Recv. (A Send cut off half way leaves the peer unable to find
// message boundaries, so later Sends fail.)
//
// # Concurrency
//
// All methods of a [Conversation] are safe for concurrent use: concurrent Sends, and
// concurrent Recvs, are serialised so that messages never interleave, and Close unblocks
// a blocked Send or Recv. The usual shape is one goroutine receiving and any number
// sending. A [Listener] is safe for concurrent use too.
//
// # UDP
//
// The tutorial's second socket type, SOCK_DGRAM, is UDP. Where TCP carries a stream of bytes
// between two connected sockets, UDP carries datagrams: each sendto is one packet with an
// address on it, and each recvfrom returns one packet and the address it came from. sockmsg
// gives UDP the same Listen, Dial, Accept, Send and Recv as TCP, with the networks "udp",
// "udp4", "udp6" and, for datagrams between processes on one machine, "unixgram":
//
//	ln, err := sockmsg.Listen("udp", ":61000")
//	...
//	conv, err := ln.Accept() // one Conversation per remote address
//	msg, err := conv.Recv()  // one datagram is one message
//
//	c, err := sockmsg.Dial("udp", "127.0.0.1:61000")
//	err = c.SendString("merhaba") // a UDP server learns of a client from its first datagram
//
// One datagram is one message, so the framing is always [Datagram]; asking for Lines,
// LengthPrefixed or Raw on a datagram network fails with [ErrInvalidConfig]. The largest
// message is 65,507 bytes by default (the most a UDP datagram carries over IPv4);
// [Config.MaxMessageSize] lowers it. A datagram larger than the limit is never cut short:
// Recv returns a *[MessageSizeError] with Datagram set, the datagram is dropped whole, and
// the conversation goes on.
//
// What UDP does not promise, sockmsg does not either. A datagram may be lost, may arrive
// after one sent later, and may arrive twice; nothing tells the sender. A program that needs
// every message, in order, once, uses TCP, or numbers its messages and acknowledges them.
// What sockmsg does promise: a message arrives whole or not at all, and every datagram that
// sockmsg itself throws away is counted.
//
// How the listener works. A UDP socket has no accept: every peer's datagrams arrive on the
// one socket. A [Listener] on a datagram network keeps a table from remote address to
// conversation (the demultiplexer), and one goroutine at a time reads the socket. A Recv
// that finds nothing waiting for its conversation reads the socket itself. A datagram
// from its own peer it returns at once, as the tutorial's recvfrom would. One from an address
// not seen before makes a new conversation, which waits in the accept backlog until Accept
// hands it out. One from another known address goes to that conversation's queue, where
// its Recv takes it. While no Recv is reading (from a millisecond after the last one), the
// listener's own goroutine reads and sorts the same way. Send on a server-side
// conversation sends from the listener's socket to the peer's address, which is what the
// tutorial's sendto does. There is no goroutine per peer or per datagram, and on udp networks
// receiving does not allocate per datagram: buffers are reused (on unixgram the net package
// allocates each sender's address).
//
// With one busy peer, a round trip costs little more than on a plain socket. With many,
// most datagrams are read by one goroutine and received by another. On Linux,
// [Config.ConnectedPeers] gives each conversation a socket of its own instead: the
// listener still finds new peers, then opens for each a socket connected to that peer
// (with SO_REUSEPORT), which the system fills and Recv reads directly, for one file
// descriptor per conversation.
//
// Bounds, and what is dropped. Both waiting lines are bounded, so a flood cannot make a
// server grow without end. [Config.Backlog] (default [DefaultBacklog]) bounds the
// conversations waiting for Accept: the first datagram of a new peer that finds it full is
// dropped and counted in [ListenerStats].Dropped (the peer's next datagram tries again).
// [Config.PeerQueue] (default [DefaultPeerQueue]) bounds the datagrams a conversation holds
// until Recv takes them: a datagram that finds the queue full is dropped and counted in
// [ConversationStats].Dropped. A server that reads too slowly sees these counters climb;
// nothing is dropped in silence. All of a listener's queues together hold at most 64 MiB;
// a datagram that would go past that is dropped and counted too. Datagrams that the
// system itself drops, because the socket's receive buffer was full before the listener
// could read them, are counted in [ListenerStats].SystemDropped (on Linux).
//
// Ending a conversation. A TCP peer that leaves ends the stream, and Recv returns io.EOF.
// A UDP peer that leaves sends nothing at all: there is no end of stream to see. That is why
// close keys matter more here. A peer that says goodbye with a close key (or [Conversation.Goodbye])
// ends its conversation exactly as on TCP: Recv returns a *[CloseKeyError]. A peer that
// vanishes without a word is caught by [Config.IdleTimeout] (default [DefaultIdleTimeout]):
// once it has sent nothing for that long, its conversation's Recv delivers what was queued
// and then returns an error matching [ErrIdleTimeout]. It does not match
// os.ErrDeadlineExceeded, because unlike a deadline it is final. Close a server-side
// conversation when you are done with it: that removes that peer only, and its next datagram
// starts a new conversation. Closing the listener ends every conversation it made: blocked
// Recv and Accept calls return, with errors matching net.ErrClosed.
//
// Deadlines and contexts work on UDP conversations as on streams: SetReadDeadline,
// RecvContext and AcceptContext bound one call and leave the conversation usable. A UDP
// Send does not wait for the peer, so it practically never blocks.
//
// A dialled UDP conversation is a connected socket: it sends only to the address it dialled
// and receives only from it. If nothing listens there, the system may report it on a later
// Send or Recv as a refused connection. A dialled unixgram conversation binds itself to a
// temporary socket file, so that the server has an address to answer; Close removes it. A
// unixgram datagram from a socket with no address cannot be answered, and is dropped and
// counted in [ListenerStats].Dropped.
//
// WinError 10057 cannot happen here either: a [Listener] has no Send, and every server-side
// [Conversation] knows the address it answers.
//
// # Serving many peers
//
// The tutorial's server accepts one client and talks to it until it leaves. A real server
// holds many conversations at once and must survive peers that are slow, silent, broken
// or hostile. [Server] runs that accept loop for you: it calls a handler in its own
// goroutine for every conversation a [Listener] accepts, and closes the conversation
// when the handler returns.
//
//	srv := &sockmsg.Server{
//		Handler: func(ctx context.Context, c *sockmsg.Conversation) error {
//			for {
//				msg, err := c.RecvContext(ctx)
//				if err != nil {
//					return err // io.EOF or a close key: the peer left
//				}
//				if err := c.Send(msg); err != nil {
//					return err
//				}
//			}
//		},
//		MaxConversations: 1000,
//		IdleTimeout:      5 * time.Minute,
//	}
//	err := srv.Serve(ctx, ln) // until ctx ends
//
// [Serve] is the same with the default options. One handler's error, panic or broken peer
// never stops the others: errors go to the optional [Server.OnError] hook (the library
// logs nothing), panics are recovered as a [*PanicError], and a temporary Accept error
// such as "too many open files" is retried with a growing pause.
//
// Limits. [Server.MaxConversations] (default 1024; negative for none) bounds the
// handlers running at once. [Server.WhenFull] says what happens to the next peer:
// [WaitWhenFull] (the default) stops accepting until a conversation ends, so new peers
// wait in the system's listen backlog; [RefuseWhenFull] accepts them, sends
// [Server.RefuseMessage] and a goodbye, and closes.
//
// Shutdown. When Serve's context ends, the Server closes the listener, then ends the
// handlers' context. A handler that returns within [Server.ShutdownGrace] (default 5s)
// has its conversation closed with a goodbye, a close key sent after everything the
// handler sent, so the peer receives every message and then learns the server is
// leaving. When the grace period ends, the Server says goodbye to the conversations still
// open and closes them, which unblocks their handlers. Serve returns only after every
// handler has returned, and returns nil.
//
// Timeouts. A peer that sends half a message and stalls, or stops reading, must not pin
// a handler for ever. [Server.IdleTimeout] ends a conversation that carried no whole
// message in either direction for that long (a goodbye, then close; reported as
// [ErrIdleTimeout]). [Server.ReadTimeout] and [Server.WriteTimeout] bound every Recv and
// Send of the handler's conversation; past them the call fails with an error matching
// [os.ErrDeadlineExceeded]. All three are off by default.
//
// TLS. Set [Config.TLS] to encrypt stream conversations: [Config.Listen] needs a
// certificate, [Config.Dial] verifies the server (its ServerName defaults to the host
// of the address). TLS 1.2 is the minimum; the caller's tls.Config is cloned, never
// changed. For mutual TLS set ClientAuth and ClientCAs on the listener's, and
// Certificates on the client's; a handler reads the peer's certificate with
// [Conversation.TLS]. The server's handshake runs in the conversation's goroutine under
// [Server.HandshakeTimeout] (default 10s), never inside Accept, so a slow client holds up
// nobody. A plaintext peer of a TLS server is told so, in its own framing, and closed;
// the listener goes on.
//
// Counters. [Server.Stats] returns a [ServeStats]: conversations accepted, active and
// refused, handlers that returned, errors by kind (handler errors, panics, timeouts, idle
// timeouts, failed handshakes, forced closes at shutdown, retried accept errors).
// [Listener.Stats] and [Conversation.Stats] count conversations, messages and bytes.
//
// # A complete example
//
// The tutorial ends with a server and a client that chat in turns. Here are the same two
// programs, reduced to their calls (the full versions, which also talk to the
// tutorial's Python scripts, are in the examples directory):
//
//	// server
//	ln, err := sockmsg.Listen("tcp", ":61000")
//	if err != nil {
//		return err
//	}
//	defer ln.Close()
//	conv, err := ln.Accept()
//	if err != nil {
//		return err
//	}
//	defer conv.Close()
//	for {
//		msg, err := conv.RecvString()
//		if errors.Is(err, sockmsg.ErrCloseKey) || err == io.EOF {
//			return nil // the client said goodbye or left
//		}
//		if err != nil {
//			return err
//		}
//		fmt.Println("CLIENT:", msg)
//		if err := conv.SendString(answer()); err != nil {
//			return err
//		}
//	}
//
//	// client
//	conv, err := sockmsg.Dial("tcp", "localhost:61000")
//	if err != nil {
//		return err
//	}
//	for _, line := range lines {
//		if sockmsg.IsCloseKey(line) {
//			return conv.Goodbye(line)
//		}
//		if err := conv.SendString(line); err != nil {
//			return err
//		}
//		reply, err := conv.RecvString()
//		if err != nil {
//			return err
//		}
//		fmt.Println("SUNUCU >", reply)
//	}
//	return conv.Goodbye("")
package sockmsg
