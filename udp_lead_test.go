package sockmsg

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The read token of a UDP listener: a Recv with nothing queued reads the socket itself,
// routes other peers' datagrams while it waits for its own, and gives the token back to
// the listener's reader goroutine when no Recv wants it.

// leadSetup is udpPair on a default listener on 127.0.0.1.
func leadSetup(t *testing.T) (ctx context.Context, ln *Listener, l *packetListener, client, server *Conversation) {
	t.Helper()
	ctx, ln, client, server = udpPair(t, nil, "udp", "127.0.0.1:0", "127.0.0.1")
	return ctx, ln, ln.ln.(*packetListener), client, server
}

// udpPair listens on network and address with cfg, dials the listener's port on
// dialHost, and accepts the client's first datagram, "first". ctx bounds the test; it
// skips when network is udp6 and there is no IPv6 loopback. Everything is closed when
// the test ends.
func udpPair(t *testing.T, cfg *Config, network, address, dialHost string) (ctx context.Context, ln *Listener, client, server *Conversation) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	ln, err := cfg.Listen(ctx, network, address)
	if err != nil && network == "udp6" {
		t.Skip("no IPv6 loopback:", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	port := ln.Addr().(*net.UDPAddr).Port
	client, err = Dial("udp", net.JoinHostPort(dialHost, strconv.Itoa(port)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, client.SendString("first"))
	server, err = ln.AcceptContext(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = server.Close() })
	got, err := server.RecvString()
	require.NoError(t, err)
	require.Equal(t, "first", got)
	return ctx, ln, client, server
}

// recvAsync runs one RecvString in a goroutine and returns where its result arrives.
func recvAsync(c *Conversation) <-chan result {
	ch := make(chan result, 1)
	go func() {
		m, err := c.RecvString()
		ch <- result{m, err}
	}()
	return ch
}

type result struct {
	msg string
	err error
}

// waitLeading waits until p's Recv holds the read token. Until Recv takes it, the
// listener's reader goroutine may hold it; Recv takes it back.
func waitLeading(t *testing.T, l *packetListener, p *peer) {
	t.Helper()
	require.Eventually(t, func() bool { return l.leader.Load() == p }, 10*time.Second, time.Millisecond,
		"Recv never took the read token")
}

func TestUDPRecvReadsTheSocketItself(t *testing.T) {
	ctx, ln, l, client, server := leadSetup(t)
	p := peerOf(t, server)
	for i, m := range []string{"one", "two", "three"} {
		got := recvAsync(server)
		waitLeading(t, l, p)
		require.NoError(t, client.SendString(m))
		select {
		case r := <-got:
			require.NoError(t, r.err)
			assert.Equal(t, m, r.msg, "message %d", i)
		case <-ctx.Done():
			t.Fatal("Recv did not return")
		}
		assert.Zero(t, len(p.queue), "the datagram went to Recv, not through the queue")
	}
	assert.Nil(t, l.leader.Load(), "Recv gave the token back")
	assert.Equal(t, ListenerStats{Accepted: 1, Open: 1}, ln.Stats())
}

// While one conversation's Recv reads the socket, it admits new peers and routes their
// datagrams, and still returns only its own.
func TestUDPLeadingRecvRoutesOtherPeers(t *testing.T) {
	ctx, ln, l, client, server := leadSetup(t)
	p := peerOf(t, server)
	got := recvAsync(server)
	waitLeading(t, l, p)

	other, err := Dial("udp", ln.Addr().String())
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.SendString("new peer"))
	second, err := ln.AcceptContext(ctx)
	require.NoError(t, err)
	defer second.Close()
	m, err := second.RecvContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "new peer", string(m))
	require.NoError(t, other.SendString("again"))
	m, err = second.RecvContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "again", string(m))

	select {
	case r := <-got:
		t.Fatalf("the first Recv returned another peer's datagram: %q, %v", r.msg, r.err)
	default:
	}
	require.NoError(t, client.SendString("mine"))
	select {
	case r := <-got:
		require.NoError(t, r.err)
		assert.Equal(t, "mine", r.msg)
	case <-ctx.Done():
		t.Fatal("Recv did not return")
	}
}

// A conversation that stops calling Recv leaves the reading to the listener's reader
// goroutine, which goes on admitting new peers.
func TestUDPReaderTakesTheTokenBackWhenNoOneReads(t *testing.T) {
	ctx, ln, l, client, server := leadSetup(t)
	p := peerOf(t, server)
	got := recvAsync(server)
	waitLeading(t, l, p)
	require.NoError(t, client.SendString("last"))
	r := <-got
	require.NoError(t, r.err)
	require.Equal(t, "last", r.msg)

	require.Eventually(t, l.readerHas.Load, 10*time.Second, time.Millisecond, "the reader goroutine never took the token")
	other, err := Dial("udp", ln.Addr().String())
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.SendString("knock"))
	second, err := ln.AcceptContext(ctx)
	require.NoError(t, err)
	defer second.Close()
	m, err := second.RecvContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "knock", string(m))
}

// Whatever ends a Recv that is reading the socket wakes it, and the token goes back.
func TestUDPLeadingRecvWakes(t *testing.T) {
	cases := []struct {
		name string
		wake func(ln *Listener, server *Conversation)
		want error
	}{
		{"deadline", func(_ *Listener, s *Conversation) { _ = s.SetReadDeadline(time.Now().Add(20 * time.Millisecond)) }, os.ErrDeadlineExceeded},
		{"deadline in the past", func(_ *Listener, s *Conversation) { _ = s.SetReadDeadline(aLongTimeAgo) }, os.ErrDeadlineExceeded},
		{"close", func(_ *Listener, s *Conversation) { _ = s.Close() }, net.ErrClosed},
		{"listener close", func(ln *Listener, _ *Conversation) { _ = ln.Close() }, net.ErrClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, ln, l, client, server := leadSetup(t)
			p := peerOf(t, server)
			got := recvAsync(server)
			waitLeading(t, l, p)
			tc.wake(ln, server)
			select {
			case r := <-got:
				assert.ErrorIs(t, r.err, tc.want)
			case <-ctx.Done():
				t.Fatal("Recv was not woken")
			}
			if errors.Is(tc.want, os.ErrDeadlineExceeded) {
				// The conversation goes on, and its next Recv reads the socket again.
				require.NoError(t, server.SetReadDeadline(time.Time{}))
				got = recvAsync(server)
				waitLeading(t, l, p)
				require.NoError(t, client.SendString("after"))
				r := <-got
				require.NoError(t, r.err)
				assert.Equal(t, "after", r.msg)
			}
			if tc.name != "listener close" {
				// The token went back: the listener still admits a new peer.
				newcomer, err := Dial("udp", ln.Addr().String())
				require.NoError(t, err)
				defer newcomer.Close()
				require.NoError(t, newcomer.SendString("newcomer"))
				c, err := ln.AcceptContext(ctx)
				require.NoError(t, err, "no one reads the socket any more")
				defer c.Close()
				m, err := c.RecvContext(ctx)
				require.NoError(t, err)
				assert.Equal(t, "newcomer", string(m))
			}
		})
	}
}

// A Recv bounded by a context that ends while it reads the socket returns the
// context's error.
func TestUDPLeadingRecvContext(t *testing.T) {
	ctx, _, l, client, server := leadSetup(t)
	p := peerOf(t, server)
	short, cancel := context.WithCancel(ctx)
	got := make(chan error, 1)
	go func() {
		_, err := server.RecvContext(short)
		got <- err
	}()
	waitLeading(t, l, p)
	cancel()
	select {
	case err := <-got:
		assert.ErrorIs(t, err, context.Canceled)
	case <-ctx.Done():
		t.Fatal("RecvContext was not woken")
	}
	require.NoError(t, client.SendString("still here"))
	m, err := server.RecvContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "still here", string(m))
}

// The read token survives churn: many conversations at once receiving, timing out on
// deadlines and contexts, and closing (their peers then starting new ones). Afterwards
// the listener still admits and serves a new peer, so no path lost the token.
func TestUDPReadTokenSurvivesChurn(t *testing.T) {
	ctx, ln, _, _, _ := leadSetup(t)
	const workers, rounds = 16, 100

	// One goroutine accepts, and hands each new conversation to its peer's worker.
	var mu sync.Mutex
	waiting := map[string]chan *Conversation{}
	go func() {
		for {
			c, err := ln.AcceptContext(ctx)
			if err != nil {
				return
			}
			mu.Lock()
			ch := waiting[c.RemoteAddr().String()]
			mu.Unlock()
			if ch == nil {
				_ = c.Close()
				continue
			}
			ch <- c
		}
	}()
	// open starts a conversation from client with the message first; assert reports a
	// failure (workers cannot stop the test from their goroutines).
	open := func(client *Conversation, first string) (*Conversation, bool) {
		ch := make(chan *Conversation, 1)
		mu.Lock()
		waiting[client.LocalAddr().String()] = ch
		mu.Unlock()
		if !assert.NoError(t, client.SendString(first)) {
			return nil, false
		}
		select {
		case c := <-ch:
			m, err := c.RecvContext(ctx)
			return c, assert.NoError(t, err) && assert.Equal(t, first, string(m))
		case <-ctx.Done():
			return nil, assert.Fail(t, "no conversation for "+first)
		}
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			client, err := Dial("udp", ln.Addr().String())
			if !assert.NoError(t, err) {
				return
			}
			defer client.Close()
			server, ok := open(client, "hello")
			if !ok {
				return
			}
			defer func() { _ = server.Close() }()
			for r := range rounds {
				switch (w + r) % 4 {
				case 0: // a message, received by a Recv that may read the socket itself
					msg := strconv.Itoa(r)
					if !assert.NoError(t, client.SendString(msg)) {
						return
					}
					m, err := server.RecvContext(ctx)
					if !assert.NoError(t, err) {
						return
					}
					assert.Equal(t, msg, string(m))
				case 1: // a context that ends while Recv waits
					short, cancel := context.WithTimeout(ctx, time.Millisecond)
					_, err := server.RecvContext(short)
					cancel()
					assert.ErrorIs(t, err, context.DeadlineExceeded)
				case 2: // a deadline that passes while Recv waits
					assert.NoError(t, server.SetReadDeadline(time.Now().Add(time.Millisecond)))
					_, err := server.Recv()
					assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
					assert.NoError(t, server.SetReadDeadline(time.Time{}))
				case 3: // closed while Recv waits; the peer's next datagram starts anew
					got := make(chan error, 1)
					go func() { _, err := server.Recv(); got <- err }()
					assert.NoError(t, server.Close())
					assert.ErrorIs(t, <-got, net.ErrClosed)
					if server, ok = open(client, "again "+strconv.Itoa(r)); !ok {
						return
					}
				}
			}
		})
	}
	wg.Wait()

	late, err := Dial("udp", ln.Addr().String())
	require.NoError(t, err)
	defer late.Close()
	c, ok := open(late, "late")
	require.True(t, ok, "a new peer is still admitted")
	defer c.Close()
	require.NoError(t, late.SendString("still served"))
	m, err := c.RecvContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "still served", string(m))
}
