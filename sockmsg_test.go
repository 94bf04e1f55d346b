package sockmsg_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTripEachFraming(t *testing.T) {
	messages := map[sockmsg.Framing][]string{
		sockmsg.Lines:          {"merhaba", "", "çok güzel: ğüşıöç ĞÜŞİÖÇ", strings.Repeat("x", 10000), "tab\tand \r inside"},
		sockmsg.LengthPrefixed: {"merhaba", "", "line\nbreaks\r\n", "\x00\xff binary \x00", strings.Repeat("y", 70000)},
		sockmsg.Raw:            {"merhaba", "çok güzel", "bir"},
	}
	for framing, msgs := range messages {
		t.Run(framing.String(), func(t *testing.T) {
			t.Parallel()
			eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
				cfg := &sockmsg.Config{Framing: framing, MaxMessageSize: 100000}
				server, client := pair(t, ctx, tr, cfg)
				assert.Equal(t, framing, client.Framing())
				assert.Equal(t, tr.network, client.Network())
				for _, m := range msgs {
					// One message in flight at a time, as Raw framing needs.
					require.NoError(t, client.SendString(m))
					got, err := server.RecvString()
					require.NoError(t, err)
					assert.Equal(t, m, got)
					require.NoError(t, server.Send([]byte(m)))
					back, err := client.Recv()
					require.NoError(t, err)
					assert.Equal(t, m, string(back))
				}
			})
		})
	}
}

func TestDefaultsAreLinesAnd64KiB(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, conn := rawPair(t, ctx, tr, nil)
		assert.Equal(t, sockmsg.Lines, server.Framing())
		assert.Equal(t, sockmsg.DefaultMaxMessageSize, server.MaxMessageSize())
		// What nc or telnet would send: lines, some with "\r\n".
		_, err := conn.Write([]byte("first\nsecond\r\n\nlast\n"))
		require.NoError(t, err)
		require.NoError(t, conn.(interface{ CloseWrite() error }).CloseWrite())
		for _, want := range []string{"first", "second", "", "last"} {
			got, err := server.RecvString()
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
		_, err = server.Recv()
		assert.Equal(t, io.EOF, err, "a clean end of stream is plain io.EOF")
		_, err = server.Recv()
		assert.Equal(t, io.EOF, err, "and stays so")
	})
}

func TestLinesSendRefusesWhatItCannotCarry(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, nil)
		for _, bad := range []string{"two\nlines", "\n", "ends in cr\r"} {
			err := client.SendString(bad)
			require.Error(t, err)
			assert.ErrorIs(t, err, sockmsg.ErrInvalidMessage)
		}
		require.NoError(t, client.SendString("after"))
		got, err := server.RecvString()
		require.NoError(t, err)
		assert.Equal(t, "after", got, "nothing of the refused messages was sent")
	})
}

func TestRawRefusesEmptyMessage(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		_, client := pair(t, ctx, tr, &sockmsg.Config{Framing: sockmsg.Raw})
		err := client.Send(nil)
		assert.ErrorIs(t, err, sockmsg.ErrInvalidMessage)
	})
}

func TestRawReadIsOneMessageOfAtMostTheLimit(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, conn := rawPair(t, ctx, tr, &sockmsg.Config{Framing: sockmsg.Raw, MaxMessageSize: 5120})
		big := strings.Repeat("r", 5120+100)
		_, err := conn.Write([]byte(big))
		require.NoError(t, err)
		var got strings.Builder
		for got.Len() < len(big) {
			m, err := server.RecvString()
			require.NoError(t, err)
			assert.LessOrEqual(t, len(m), 5120)
			got.WriteString(m)
		}
		assert.Equal(t, big, got.String(), "raw framing splits but never loses bytes")
	})
}

func TestSendOverLimitIsRefused(t *testing.T) {
	for _, framing := range []sockmsg.Framing{sockmsg.Lines, sockmsg.LengthPrefixed, sockmsg.Raw} {
		t.Run(framing.String(), func(t *testing.T) {
			t.Parallel()
			eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
				server, client := pair(t, ctx, tr, &sockmsg.Config{Framing: framing, MaxMessageSize: 10})
				err := client.SendString("01234567890")
				require.Error(t, err)
				assert.ErrorIs(t, err, sockmsg.ErrMessageTooLarge)
				var se *sockmsg.MessageSizeError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, int64(11), se.Size)
				assert.Equal(t, 10, se.Max)
				assert.Contains(t, err.Error(), "MaxMessageSize")
				require.NoError(t, client.SendString("0123456789"))
				got, err := server.RecvString()
				require.NoError(t, err)
				assert.Equal(t, "0123456789", got)
			})
		})
	}
}

func TestRecvOverLimitEndsConversation(t *testing.T) {
	header := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	cases := []struct {
		name    string
		framing sockmsg.Framing
		wire    []byte
		size    int64
	}{
		{"line too long", sockmsg.Lines, []byte(strings.Repeat("a", 1025) + "\n"), 1025},
		{"endless line", sockmsg.Lines, []byte(strings.Repeat("a", 5000)), -1},
		{"length over limit", sockmsg.LengthPrefixed, append(header(1025), "abc"...), 1025},
		{"4 GiB length header", sockmsg.LengthPrefixed, header(0xFFFFFFFF), 0xFFFFFFFF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
				server, conn := rawPair(t, ctx, tr, &sockmsg.Config{Framing: tc.framing, MaxMessageSize: 1024})
				_, err := conn.Write(tc.wire)
				require.NoError(t, err)
				_, err = server.Recv()
				require.Error(t, err)
				assert.ErrorIs(t, err, sockmsg.ErrMessageTooLarge)
				var se *sockmsg.MessageSizeError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tc.size, se.Size)
				assert.Equal(t, 1024, se.Max)
				_, again := server.Recv()
				assert.ErrorIs(t, again, sockmsg.ErrMessageTooLarge, "the conversation is over")
				// The server closed its end: the peer sees the stream end.
				require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
				_, err = io.Copy(io.Discard, conn)
				if err != nil {
					assert.ErrorIs(t, err, syscall.ECONNRESET)
				}
			})
		})
	}
}

func TestPeerVanishesMidFrame(t *testing.T) {
	cases := map[sockmsg.Framing]string{
		sockmsg.LengthPrefixed: string(binary.BigEndian.AppendUint32(nil, 100)) + "only part",
		sockmsg.Lines:          "a whole line\na line cut o",
	}
	for framing, wire := range cases {
		t.Run(framing.String(), func(t *testing.T) {
			t.Parallel()
			eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
				server, conn := rawPair(t, ctx, tr, &sockmsg.Config{Framing: framing})
				_, err := conn.Write([]byte(wire))
				require.NoError(t, err)
				require.NoError(t, conn.Close())
				if framing == sockmsg.Lines {
					got, err := server.RecvString()
					require.NoError(t, err)
					assert.Equal(t, "a whole line", got)
				}
				_, err = server.Recv()
				require.Error(t, err)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "half a message is never delivered as a whole one")
				assert.NotErrorIs(t, err, io.EOF)
				assert.Contains(t, err.Error(), "middle of a message")
			})
		})
	}
}

func TestGoodbyeUnblocksRecvAndLingers(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, nil)
		recvErr := make(chan error, 1)
		go func() {
			_, err := server.Recv()
			recvErr <- err
		}()
		// The client talks on while the server says goodbye.
		require.NoError(t, client.SendString("one"))
		require.NoError(t, client.SendString("two"))
		require.NoError(t, server.Goodbye(""))
		err := <-recvErr
		if err != nil {
			assert.ErrorIs(t, err, net.ErrClosed, "a Recv in progress ends when Goodbye closes")
		}
		_, err = client.Recv()
		assert.ErrorIs(t, err, sockmsg.ErrCloseKey, "the goodbye arrives although the server had unread data")
		require.NoError(t, client.Close())
	})
}

func TestCloseKeysFromThePeer(t *testing.T) {
	for _, text := range []string{"bye", "EXİT", "QUİT", "KAPAT", "Bye ", "  q", "exıt", "Close"} {
		t.Run(text, func(t *testing.T) {
			t.Parallel()
			eachTransport(t, func(t *testing.T, ctx context.Context, tr transport) {
				server, client := pair(t, ctx, tr, nil)
				require.NoError(t, client.SendString("hello"))
				require.NoError(t, client.SendString(text))
				got, err := server.RecvString()
				require.NoError(t, err)
				assert.Equal(t, "hello", got)
				_, err = server.Recv()
				require.Error(t, err)
				assert.ErrorIs(t, err, sockmsg.ErrCloseKey)
				assert.NotErrorIs(t, err, io.EOF)
				var ck *sockmsg.CloseKeyError
				require.ErrorAs(t, err, &ck)
				assert.Equal(t, strings.TrimSpace(text), ck.Text)
				assert.True(t, sockmsg.IsCloseKey(ck.Key))
				_, err = server.Recv()
				assert.ErrorIs(t, err, sockmsg.ErrCloseKey, "the goodbye is remembered")
			})
		})
	}
}

func TestPeerLeavingIsEOFNotCloseKey(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, nil)
		require.NoError(t, client.Close())
		_, err := server.Recv()
		assert.ErrorIs(t, err, io.EOF)
		assert.NotErrorIs(t, err, sockmsg.ErrCloseKey)
	})
}

func TestCustomAndDisabledCloseKeys(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, &sockmsg.Config{CloseKeys: []string{"görüşürüz", "STOP"}})
		require.NoError(t, client.SendString("bye"))
		got, err := server.RecvString()
		require.NoError(t, err)
		assert.Equal(t, "bye", got, "replaced keys: bye is an ordinary message")
		require.NoError(t, client.SendString("GÖRÜŞÜRÜZ"))
		_, err = server.Recv()
		var ck *sockmsg.CloseKeyError
		require.ErrorAs(t, err, &ck)
		assert.Equal(t, "görüşürüz", ck.Key)

		off := &sockmsg.Config{DisableCloseKeys: true}
		server, client = pair(t, ctx, tr, off)
		require.NoError(t, client.SendString("exit"))
		got, err = server.RecvString()
		require.NoError(t, err)
		assert.Equal(t, "exit", got)
		require.NoError(t, client.Goodbye(""), "with keys disabled Goodbye only closes")
		_, err = server.Recv()
		assert.Equal(t, io.EOF, err)
	})
}

func TestGoodbye(t *testing.T) {
	eachTransport(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, nil)
		err := client.Goodbye("see you")
		assert.ErrorIs(t, err, sockmsg.ErrInvalidMessage, "not a close key: refused")
		require.NoError(t, client.SendString("still here"))
		require.NoError(t, client.Goodbye("kapat"))
		got, err := server.RecvString()
		require.NoError(t, err)
		assert.Equal(t, "still here", got)
		_, err = server.Recv()
		var ck *sockmsg.CloseKeyError
		require.ErrorAs(t, err, &ck)
		assert.Equal(t, "kapat", ck.Key)
		assert.ErrorIs(t, client.SendString("x"), net.ErrClosed, "Goodbye closed the conversation")

		server, client = pair(t, ctx, tr, nil)
		require.NoError(t, server.Goodbye(""))
		_, err = client.Recv()
		require.ErrorAs(t, err, &ck)
		assert.Equal(t, "bye", ck.Key, "the default goodbye is the first key")
	})
}

func TestSendAndRecvAfterCloseAndCloseTwice(t *testing.T) {
	eachTransport(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, nil)
		require.NoError(t, client.Close())
		err := client.SendString("late")
		require.Error(t, err)
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.Contains(t, err.Error(), "closed by this program")
		_, err = client.Recv()
		assert.ErrorIs(t, err, net.ErrClosed)
		err = client.Close()
		assert.ErrorIs(t, err, net.ErrClosed, "second Close")
		require.NoError(t, server.Close())
	})
}

func TestCloseUnblocksRecvAndSend(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		_, client := pair(t, ctx, tr, &sockmsg.Config{Framing: sockmsg.LengthPrefixed})
		// The peer never sends, so Recv blocks.
		recvErr := make(chan error, 1)
		go func() {
			_, err := client.Recv()
			recvErr <- err
		}()
		// The peer never reads, so the sender soon fills the socket buffers and blocks.
		sent := make(chan struct{}, 1)
		sendErr := make(chan error, 1)
		go func() {
			chunk := make([]byte, 32<<10)
			for {
				if err := client.Send(chunk); err != nil {
					sendErr <- err
					return
				}
				select {
				case sent <- struct{}{}:
				default:
				}
			}
		}()
		<-sent
		require.NoError(t, client.Close())
		assert.ErrorIs(t, <-recvErr, net.ErrClosed)
		assert.ErrorIs(t, <-sendErr, net.ErrClosed)
	})
}

func TestConcurrentSendsNeverInterleave(t *testing.T) {
	for _, framing := range []sockmsg.Framing{sockmsg.Lines, sockmsg.LengthPrefixed} {
		t.Run(framing.String(), func(t *testing.T) {
			t.Parallel()
			eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
				server, client := pair(t, ctx, tr, &sockmsg.Config{Framing: framing})
				const senders, each = 8, 200
				var wg sync.WaitGroup
				for g := range senders {
					wg.Go(func() {
						// Sizes on both sides of the small-frame copy path.
						body := strings.Repeat(string(rune('a'+g)), 100+g*1000)
						for i := range each {
							assert.NoError(t, client.SendString(fmt.Sprintf("%d:%d:%s", g, i, body)))
						}
					})
				}
				next := make([]int, senders)
				for range senders * each {
					m, err := server.RecvString()
					require.NoError(t, err)
					var g, i int
					var body string
					_, err = fmt.Sscanf(m, "%d:%d:%s", &g, &i, &body)
					require.NoError(t, err)
					assert.Equal(t, next[g], i, "messages of one sender arrive in order")
					next[g]++
					assert.Equal(t, strings.Repeat(string(rune('a'+g)), 100+g*1000), body)
				}
				wg.Wait()
			})
		})
	}
}

func TestDeadlines(t *testing.T) {
	eachTransport(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, nil)
		require.NoError(t, server.SetReadDeadline(time.Now().Add(-time.Second)))
		_, err := server.Recv()
		require.Error(t, err)
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.Timeout())
		assert.Contains(t, err.Error(), "still usable")

		require.NoError(t, server.SetDeadline(time.Time{}))
		require.NoError(t, client.SendString("after the deadline"))
		got, err := server.RecvString()
		require.NoError(t, err, "a deadline does not end the conversation")
		assert.Equal(t, "after the deadline", got)

		require.NoError(t, client.SetWriteDeadline(time.Now().Add(-time.Second)))
		assert.ErrorIs(t, client.SendString("x"), os.ErrDeadlineExceeded)
	})
}

func TestContextBoundsOneCall(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, conn := rawPair(t, ctx, tr, &sockmsg.Config{Framing: sockmsg.LengthPrefixed})
		frame := append(binary.BigEndian.AppendUint32(nil, 11), "hello world"...)
		// Half a frame arrives, then the context's deadline passes.
		_, err := conn.Write(frame[:7])
		require.NoError(t, err)
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err = server.RecvContext(short)
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)

		// The rest arrives: the half-read message is completed, nothing is lost.
		_, err = conn.Write(frame[7:])
		require.NoError(t, err)
		got, err := server.RecvContext(ctx)
		require.NoError(t, err)
		assert.Equal(t, "hello world", string(got))

		// Cancelling from another goroutine unblocks the call.
		cctx, err := recvCancelled(ctx, server)
		assert.ErrorIs(t, err, context.Canceled)

		// A context that had already ended sends nothing.
		assert.ErrorIs(t, server.SendContext(cctx, []byte("x")), context.Canceled)
		require.NoError(t, server.SendContext(ctx, []byte("still open")))
		buf := make([]byte, 4+len("still open"))
		_, err = io.ReadFull(conn, buf)
		require.NoError(t, err)
		assert.Equal(t, "still open", string(buf[4:]))
	})
}

func TestAppendRecvReusesBuffer(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, &sockmsg.Config{Framing: sockmsg.LengthPrefixed})
		buf := make([]byte, 0, 64)
		for _, m := range []string{"one", "two", "three"} {
			require.NoError(t, client.SendString(m))
			var err error
			buf, err = server.AppendRecv(buf[:0])
			require.NoError(t, err)
			assert.Equal(t, m, string(buf))
			assert.Equal(t, 64, cap(buf), "the caller's buffer is reused")
		}
		require.NoError(t, client.Close())
		buf, err := server.AppendRecv([]byte("kept:"))
		assert.Equal(t, io.EOF, err)
		assert.Equal(t, "kept:", string(buf), "on error dst comes back unchanged")
	})
}

func TestListener(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		ln := listen(t, ctx, tr, nil)
		assert.Equal(t, tr.network, ln.Addr().Network())

		// A context stops one Accept; the listener goes on.
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := ln.AcceptContext(short)
		assert.ErrorIs(t, err, context.DeadlineExceeded)

		client, err := sockmsg.DialContext(ctx, tr.network, ln.Addr().String())
		require.NoError(t, err)
		defer client.Close()
		server, err := ln.AcceptContext(ctx)
		require.NoError(t, err, "the listener survived the cancelled Accept")
		defer server.Close()
		assert.Equal(t, client.LocalAddr().String(), server.RemoteAddr().String())

		// Close unblocks a waiting Accept.
		done := make(chan error, 1)
		go func() {
			_, err := ln.Accept()
			done <- err
		}()
		require.NoError(t, ln.Close())
		assert.ErrorIs(t, <-done, net.ErrClosed)
		assert.ErrorIs(t, ln.Close(), net.ErrClosed, "second Close")
	})
}

func TestUnsupportedNetworks(t *testing.T) {
	for _, network := range []string{"x25", "X.25", "ip4", "unixpacket", "", "TCP"} {
		t.Run(network, func(t *testing.T) {
			_, err := sockmsg.Dial(network, "127.0.0.1:1")
			require.Error(t, err)
			assert.ErrorIs(t, err, sockmsg.ErrUnsupportedNetwork)
			var ne *sockmsg.NetworkError
			require.ErrorAs(t, err, &ne)
			assert.Equal(t, network, ne.Network)
			assert.Contains(t, err.Error(), "tcp, tcp4, tcp6, unix")
			_, err = sockmsg.Listen(network, "127.0.0.1:0")
			assert.ErrorIs(t, err, sockmsg.ErrUnsupportedNetwork)
		})
	}
	_, err := sockmsg.Dial("x25", "")
	assert.Contains(t, err.Error(), "X.25")
}

func TestOSErrorsCarryHints(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	t.Run("connection refused", func(t *testing.T) {
		ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		_, err = sockmsg.DialContext(ctx, "tcp", addr)
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.Contains(t, err.Error(), "start the server first")
		var se *sockmsg.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "dial", se.Op)
	})
	t.Run("address in use", func(t *testing.T) {
		for _, tr := range streamTransports {
			ln := listen(t, ctx, tr, nil)
			_, err := sockmsg.Listen(tr.network, ln.Addr().String())
			require.Error(t, err)
			assert.ErrorIs(t, err, syscall.EADDRINUSE)
			assert.Contains(t, err.Error(), "pick another port")
		}
	})
	t.Run("no unix socket file", func(t *testing.T) {
		_, err := sockmsg.DialContext(ctx, "unix", localAddress(t, "unix"))
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.ENOENT)
		assert.Contains(t, err.Error(), "no socket file")
	})
	t.Run("reset by peer", func(t *testing.T) {
		server, conn := rawPair(t, ctx, streamTransports[0], nil)
		// Closing with SO_LINGER 0 sends a reset instead of an orderly end.
		require.NoError(t, conn.(*net.TCPConn).SetLinger(0))
		require.NoError(t, conn.Close())
		_, err := server.Recv()
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.ECONNRESET)
		assert.Contains(t, err.Error(), "abruptly")
	})
	t.Run("bad address", func(t *testing.T) {
		_, err := sockmsg.DialContext(ctx, "tcp", "no-port-here")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "host:port")
	})
}

func TestInvalidConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     sockmsg.Config
		network string
	}{
		{"negative size", sockmsg.Config{MaxMessageSize: -1}, "tcp"},
		{"datagram on a stream", sockmsg.Config{Framing: sockmsg.Datagram}, "tcp"},
		{"unknown framing", sockmsg.Config{Framing: 42}, "unix"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.Listen(context.Background(), tc.network, localAddress(t, tc.network))
			assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig)
			_, err = tc.cfg.Dial(context.Background(), tc.network, "127.0.0.1:1")
			assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig)
		})
	}
}

func TestConfigIsNotChanged(t *testing.T) {
	ctx := testTimeout(t, 20*time.Second)
	keys := []string{"Son"}
	cfg := &sockmsg.Config{CloseKeys: keys}
	want := *cfg
	server, client := pair(t, ctx, streamTransports[0], cfg)
	require.NoError(t, client.SendString("son"))
	_, err := server.Recv()
	assert.ErrorIs(t, err, sockmsg.ErrCloseKey)
	assert.Equal(t, want, *cfg)
	assert.Equal(t, []string{"Son"}, keys)
}

func TestParseFraming(t *testing.T) {
	for _, f := range []sockmsg.Framing{sockmsg.DefaultFraming, sockmsg.Lines, sockmsg.LengthPrefixed, sockmsg.Raw, sockmsg.Datagram} {
		got, err := sockmsg.ParseFraming(f.String())
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
	_, err := sockmsg.ParseFraming("json")
	assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "lines, length, raw")
	assert.Equal(t, "Framing(9)", sockmsg.Framing(9).String())
}

func TestNewConversationOverPipe(t *testing.T) {
	testTimeout(t, 20*time.Second)
	a, b := net.Pipe()
	ca, err := (&sockmsg.Config{Framing: sockmsg.LengthPrefixed}).NewConversation(a)
	require.NoError(t, err)
	cb, err := (&sockmsg.Config{Framing: sockmsg.LengthPrefixed}).NewConversation(b)
	require.NoError(t, err)
	go func() { assert.NoError(t, ca.SendString("over a pipe")) }()
	got, err := cb.RecvString()
	require.NoError(t, err)
	assert.Equal(t, "over a pipe", got)
	assert.NoError(t, ca.Close())
	assert.NoError(t, cb.Close())
}

func TestIsCloseKey(t *testing.T) {
	yes := []string{"bye", "BYE", "Bye ", " close\n", "quit", "QUİT", "q", "Q", "kapat", "KAPAT", "exit", "EXİT", "EXIT", "exıt", "ExİT\r\n", "\tq\t"}
	no := []string{"", " ", "by", "byee", "bye now", "e x i t", "quit!", "çık", "kapa", "\xff", "exit\x00"}
	for _, s := range yes {
		assert.True(t, sockmsg.IsCloseKey(s), "%q is a close key", s)
	}
	for _, s := range no {
		assert.False(t, sockmsg.IsCloseKey(s), "%q is not a close key", s)
	}
	keys := sockmsg.DefaultCloseKeys()
	assert.Equal(t, []string{"bye", "close", "quit", "q", "kapat", "exit"}, keys)
	keys[0] = "changed"
	assert.Equal(t, "bye", sockmsg.DefaultCloseKeys()[0], "callers get a copy")
}

func TestErrorMessagesHaveOnePrefix(t *testing.T) {
	_, err := sockmsg.Dial("x25", "a")
	assert.Equal(t, 1, strings.Count(err.Error(), "sockmsg:"), err.Error())
	ln, err := sockmsg.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, err = sockmsg.Dial("tcp", addr)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "sockmsg: dial tcp "), err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "sockmsg:"), err.Error())
	assert.False(t, errors.Is(err, io.EOF))
}

func TestSendAndAppendRecvDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	for _, framing := range []sockmsg.Framing{sockmsg.Lines, sockmsg.LengthPrefixed, sockmsg.Raw} {
		for _, size := range []int{64, 16 << 10} {
			t.Run(fmt.Sprintf("%s/%d", framing, size), func(t *testing.T) {
				ctx := testTimeout(t, 20*time.Second)
				server, client := pair(t, ctx, streamTransports[0], &sockmsg.Config{Framing: framing})
				msg := strings.Repeat("m", size)
				buf := make([]byte, 0, 64<<10)
				roundTrip := func() {
					if err := client.SendString(msg); err != nil {
						panic(err)
					}
					// Raw framing may deliver a large message in several reads.
					for got := 0; got < size; {
						var err error
						if buf, err = server.AppendRecv(buf[:0]); err != nil {
							panic(err)
						}
						got += len(buf)
					}
				}
				roundTrip() // warm up: buffers grow once
				assert.Zero(t, testing.AllocsPerRun(100, roundTrip))
			})
		}
	}
}

// A burst grows a stream conversation's read buffer; once everything read has been
// delivered (the last message a small one), a Recv that waits for more holds only the
// small first buffer again, and the messages after that arrive intact and in order, the
// first of them begun before the buffer shrank and finished after. A Recv past its
// deadline stands for one that waits: it gets as far as the read.
func TestReadBufferShrinksWhenDrained(t *testing.T) {
	frames := map[sockmsg.Framing]func(string) []byte{
		sockmsg.Lines:          func(m string) []byte { return []byte(m + "\n") },
		sockmsg.LengthPrefixed: func(m string) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(m))), m...) },
	}
	// message i is its number and then size bytes in all.
	message := func(i, size int) string {
		m := fmt.Sprintf("%06d ", i)
		return m + strings.Repeat(string(rune('a'+i%26)), size-len(m))
	}
	// With a 1 MiB limit the straddling message needs a buffer larger than the pooled
	// ones: that one is made, and dropped when the conversation falls back.
	limits := []struct {
		name             string
		limit, straddled int
	}{{"default", 0, 30000}, {"1MiB", 1 << 20, 100000}}
	for framing, frame := range frames {
		for _, l := range limits {
			t.Run(framing.String()+"/"+l.name, func(t *testing.T) {
				eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
					server, conn := rawPair(t, ctx, tr, &sockmsg.Config{Framing: framing, MaxMessageSize: l.limit})
					next := 0
					recv := func(size int) {
						t.Helper()
						got, err := server.RecvString()
						require.NoError(t, err)
						require.Equal(t, message(next, size), got, "message %d", next)
						next++
					}
					waitingHoldsSmallBuffer := func() {
						t.Helper()
						require.NoError(t, server.SetReadDeadline(time.Now().Add(-time.Second)))
						_, err := server.Recv()
						require.ErrorIs(t, err, os.ErrDeadlineExceeded)
						require.NoError(t, server.SetReadDeadline(time.Time{}))
						assert.LessOrEqual(t, sockmsg.ReadBufferCap(server), sockmsg.InitialReadBuffer)
					}

					// The burst: a message larger than the first buffer, then a stream of
					// small ones, written while the server reads.
					const large, small, count = 20000, 100, 2000
					var burst []byte
					burst = append(burst, frame(message(0, large))...)
					for i := 1; i <= count; i++ {
						burst = append(burst, frame(message(i, small))...)
					}
					written := make(chan error, 1)
					go func() {
						_, err := conn.Write(burst)
						written <- err
					}()
					recv(large)
					assert.Greater(t, sockmsg.ReadBufferCap(server), large, "the large message grew the buffer")
					for range count {
						recv(small)
					}
					require.NoError(t, <-written)
					// The last read of the burst may have filled the buffer, which keeps it
					// for the next read, and so does a last message larger than the small
					// buffer. A large message and a small one, alone, grow it and leave room.
					_, err := conn.Write(append(frame(message(next, large)), frame(message(next+1, small))...))
					require.NoError(t, err)
					recv(large)
					recv(small)
					require.Greater(t, sockmsg.ReadBufferCap(server), large, "the buffer is kept until the next read")

					// A large message whose first part waits in the socket while the buffer
					// shrinks, then more: all intact and in order, and the buffer goes back again.
					straddling := frame(message(next, l.straddled))
					_, err = conn.Write(straddling[:3000])
					require.NoError(t, err)
					waitingHoldsSmallBuffer()
					rest := append(append(straddling[3000:], frame(message(next+1, large))...), frame(message(next+2, small))...)
					go func() {
						_, err := conn.Write(rest)
						written <- err
					}()
					recv(l.straddled)
					recv(large)
					recv(small)
					require.NoError(t, <-written)
					waitingHoldsSmallBuffer()
				})
			})
		}
	}
}

func TestStats(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		ln := listen(t, ctx, tr, nil)
		client, err := sockmsg.DialContext(ctx, tr.network, ln.Addr().String())
		require.NoError(t, err)
		defer client.Close()
		server, err := ln.AcceptContext(ctx)
		require.NoError(t, err)
		assert.Equal(t, sockmsg.ListenerStats{Accepted: 1, Open: 1}, ln.Stats())
		require.NoError(t, client.SendString("abc"))
		require.NoError(t, client.SendString("de"))
		for range 2 {
			_, err := server.Recv()
			require.NoError(t, err)
		}
		assert.Equal(t, sockmsg.ConversationStats{MessagesSent: 2, BytesSent: 5}, client.Stats())
		assert.Equal(t, sockmsg.ConversationStats{MessagesReceived: 2, BytesReceived: 5}, server.Stats())
		require.NoError(t, server.Close())
		assert.ErrorIs(t, server.Close(), net.ErrClosed)
		assert.Equal(t, sockmsg.ListenerStats{Accepted: 1, Open: 0}, ln.Stats(), "a second Close counts once")
	})
}

func TestSendBatch(t *testing.T) {
	for _, framing := range []sockmsg.Framing{sockmsg.Lines, sockmsg.LengthPrefixed} {
		t.Run(framing.String(), func(t *testing.T) {
			t.Parallel()
			eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
				server, client := pair(t, ctx, tr, &sockmsg.Config{Framing: framing})
				// Small and large messages, more than one 64 KiB chunk in all.
				var batch [][]byte
				for i := range 3000 {
					size := 10 + i%50
					if i%1000 == 999 {
						size = 60 << 10
					}
					batch = append(batch, []byte(fmt.Sprintf("%05d:%s", i, strings.Repeat("b", size))))
				}
				errc := make(chan error, 1)
				go func() {
					n, err := client.SendBatch(batch)
					assert.Equal(t, len(batch), n)
					errc <- err
				}()
				for i := range batch {
					got, err := server.Recv()
					require.NoError(t, err)
					require.Equal(t, string(batch[i]), string(got), "message %d", i)
				}
				require.NoError(t, <-errc)
				assert.Equal(t, uint64(len(batch)), client.Stats().MessagesSent)

				// One bad message: nothing is sent.
				n, err := client.SendBatch([][]byte{[]byte("fine"), []byte("not\nfine")})
				if framing == sockmsg.Lines {
					assert.ErrorIs(t, err, sockmsg.ErrInvalidMessage)
					assert.Contains(t, err.Error(), "message 1 of the batch")
					assert.Zero(t, n)
				} else {
					require.NoError(t, err)
					assert.Equal(t, 2, n)
				}
				require.NoError(t, client.SendString("last"))
				for {
					got, err := server.RecvString()
					require.NoError(t, err)
					if got == "last" {
						break
					}
					assert.NotEqual(t, sockmsg.Lines, framing, "Lines sent part of a refused batch: %q", got)
				}
			})
		})
	}
}

func TestSendBatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	ctx := testTimeout(t, 20*time.Second)
	server, client := pair(t, ctx, streamTransports[0], &sockmsg.Config{Framing: sockmsg.LengthPrefixed})
	batch := make([][]byte, 100)
	for i := range batch {
		batch[i] = []byte(strings.Repeat("z", 64))
	}
	buf := make([]byte, 0, 128)
	roundTrip := func() {
		if _, err := client.SendBatch(batch); err != nil {
			panic(err)
		}
		for range batch {
			var err error
			if buf, err = server.AppendRecv(buf[:0]); err != nil {
				panic(err)
			}
		}
	}
	roundTrip()
	assert.Zero(t, testing.AllocsPerRun(50, roundTrip))
}

func TestCloseKey(t *testing.T) {
	for text, want := range map[string]string{" EXİT ": "exit", "Kapat": "kapat", "Q": "q", "exıt\n": "exit"} {
		key, ok := sockmsg.CloseKey(text)
		assert.True(t, ok, text)
		assert.Equal(t, want, key, text)
	}
	key, ok := sockmsg.CloseKey("merhaba")
	assert.False(t, ok)
	assert.Empty(t, key)
}

func TestAppendRecvContext(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		server, client := pair(t, ctx, tr, nil)
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		buf, err := server.AppendRecvContext(short, []byte("x"))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, "x", string(buf))
		require.NoError(t, client.SendString("y"))
		buf, err = server.AppendRecvContext(ctx, buf)
		require.NoError(t, err)
		assert.Equal(t, "xy", string(buf))
	})
}
