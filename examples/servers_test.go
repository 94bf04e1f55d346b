package examples_test

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sockmsg/sockmsg"
)

// dial connects a test client to a server program.
func dial(ctx context.Context, t *testing.T, framing sockmsg.Framing, addr string) *sockmsg.Conversation {
	t.Helper()
	conv, err := (&sockmsg.Config{Framing: framing}).Dial(ctx, "tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conv.Close() })
	return conv
}

// recv receives one message, bounded by ctx.
func recv(ctx context.Context, t *testing.T, conv *sockmsg.Conversation) string {
	t.Helper()
	msg, err := conv.RecvContext(ctx)
	require.NoError(t, err)
	return string(msg)
}

// TestEcho runs examples/echo with several clients at once in each framing; one says
// goodbye, the others are told goodbye by the server's graceful shutdown on SIGTERM,
// after which it exits 0.
func TestEcho(t *testing.T) {
	t.Parallel()
	for _, framing := range []sockmsg.Framing{sockmsg.Lines, sockmsg.Raw, sockmsg.LengthPrefixed} {
		t.Run(framing.String(), func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			echo := start(ctx, t, "", "echo", "-addr", "127.0.0.1:0", "-framing", framing.String())
			addr := echo.listening(ctx, t)

			const clients, messages = 8, 20
			convs := make([]*sockmsg.Conversation, clients)
			for i := range convs {
				convs[i] = dial(ctx, t, framing, addr)
			}
			var wg sync.WaitGroup
			for i, conv := range convs {
				wg.Go(func() {
					for j := range messages {
						msg := fmt.Sprintf("istemci %d, mesaj %d: ğüşıöç İ", i, j)
						if !assert.NoError(t, conv.SendString(msg)) {
							return
						}
						// In strict turns even Raw framing keeps the messages apart.
						got, err := conv.RecvContext(ctx)
						if !assert.NoError(t, err) || !assert.Equal(t, msg, string(got)) {
							return
						}
					}
				})
			}
			wg.Wait()

			// A close key ends that client's conversation: the server closes it.
			require.NoError(t, convs[0].Goodbye("Bye"))
			echo.stderr.waitFor(ctx, t, lit(`said goodbye ("Bye")`))

			echo.signal(t, syscall.SIGTERM)
			for _, conv := range convs[1:] {
				_, err := conv.RecvContext(ctx)
				assert.ErrorIs(t, err, sockmsg.ErrCloseKey, "the server says goodbye when it shuts down")
			}
			assert.Equal(t, 0, echo.wait(ctx, t), "echo exit code after SIGTERM")
			assert.Contains(t, echo.stderr.String(), "the server is shutting down")
			assert.Contains(t, echo.stderr.String(), "shut down")
		})
	}
}

// TestEchoInterrupt: Ctrl-C (SIGINT) with no client shuts the server down with exit 0.
func TestEchoInterrupt(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	for _, name := range []string{"echo", "chat"} {
		p := start(ctx, t, "", name, "-addr", "127.0.0.1:0")
		p.listening(ctx, t)
		p.signal(t, syscall.SIGINT)
		assert.Equal(t, 0, p.wait(ctx, t), "%s exit code after SIGINT", name)
	}
}

// TestChat runs examples/chat with three clients: joins and leaves are announced,
// every message reaches the others and not its sender, a close key leaves the room, and
// SIGTERM says goodbye to those still there and exits 0.
func TestChat(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	chat := start(ctx, t, "", "chat", "-addr", "127.0.0.1:0")
	addr := chat.listening(ctx, t)

	// Each joins after the one before has been welcomed, so the order is known.
	join := func(others int) *sockmsg.Conversation {
		conv := dial(ctx, t, sockmsg.Lines, addr)
		name := conv.LocalAddr().String()
		assert.Equal(t, fmt.Sprintf("* welcome, %s; %d others here; say bye to leave", name, others), recv(ctx, t, conv))
		return conv
	}
	ali := join(0)
	ayse := join(1)
	assert.Equal(t, "* "+ayse.LocalAddr().String()+" joined", recv(ctx, t, ali))
	cem := join(2)
	assert.Equal(t, "* "+cem.LocalAddr().String()+" joined", recv(ctx, t, ali))
	assert.Equal(t, "* "+cem.LocalAddr().String()+" joined", recv(ctx, t, ayse))

	require.NoError(t, ayse.SendString(turkish1))
	want := ayse.LocalAddr().String() + ": " + turkish1
	assert.Equal(t, want, recv(ctx, t, ali))
	assert.Equal(t, want, recv(ctx, t, cem))

	require.NoError(t, cem.Goodbye("kapat"))
	left := "* " + cem.LocalAddr().String() + " left"
	assert.Equal(t, left, recv(ctx, t, ali))
	assert.Equal(t, left, recv(ctx, t, ayse))

	// The sender got nothing of its own: the next thing ayse hears is from ali.
	require.NoError(t, ali.SendString(turkish2))
	assert.Equal(t, ali.LocalAddr().String()+": "+turkish2, recv(ctx, t, ayse))

	// A client that just disconnects leaves the room too.
	require.NoError(t, ali.Close())
	assert.Equal(t, "* "+ali.LocalAddr().String()+" left", recv(ctx, t, ayse))

	chat.signal(t, syscall.SIGTERM)
	_, err := ayse.RecvContext(ctx)
	assert.ErrorIs(t, err, sockmsg.ErrCloseKey, "the server says goodbye when it shuts down")
	_, err = ayse.RecvContext(ctx)
	assert.ErrorIs(t, err, sockmsg.ErrCloseKey, "and then it is over")
	assert.Equal(t, 0, chat.wait(ctx, t), "chat exit code after SIGTERM")
	assert.Contains(t, chat.stderr.String(), cem.LocalAddr().String()+` left: said goodbye ("kapat")`)
	assert.Contains(t, chat.stderr.String(), ali.LocalAddr().String()+" left: disconnected")
}
