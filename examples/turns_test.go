package examples_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Turkish text that must cross every conversation unchanged.
const (
	turkish1 = "merhaba, nasılsın? ğüşıöç ĞÜŞİÖÇ"
	turkish2 = "çok iyiyim, sağ ol: İstanbul'da yağmur"
)

// transcript is what a chat program's standard output holds after a conversation:
// with piped input every prompt is followed by the line read, then the peer's message.
func transcript(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// TestServerClient holds a conversation between examples/server and examples/client over
// TCP in each framing, typed lines piped in, ending with the client's close key typed
// the Turkish way.
func TestServerClient(t *testing.T) {
	t.Parallel()
	for _, framing := range []string{"raw", "lines", "length"} {
		t.Run(framing, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			server := start(ctx, t, "selam\n"+turkish2+"\n", "server", "-host", "127.0.0.1", "-port", "0", "-framing", framing)
			addr := server.listening(ctx, t)
			client := start(ctx, t, "merhaba\n\n"+turkish1+"\nEXİT\nnever sent\n", "client", "-host", "127.0.0.1", "-port", port(t, addr), "-framing", framing)

			assert.Equal(t, 0, client.wait(ctx, t), "client exit code")
			assert.Equal(t, 0, server.wait(ctx, t), "server exit code")
			assert.Equal(t, transcript(
				"-> merhaba", "SUNUCU > selam",
				"-> ", // an empty line is not sent: the prompt comes again
				"-> "+turkish1, "SUNUCU > "+turkish2,
				"-> EXİT"), client.stdout.String())
			assert.Equal(t, transcript(
				"CLIENT: merhaba", "-> selam",
				"CLIENT: "+turkish1, "-> "+turkish2), server.stdout.String())
			assert.Contains(t, server.stderr.String(), `the client said goodbye ("exit")`)
		})
	}
}

// TestServerClientUnix: -network unix takes the socket file's path in -host.
func TestServerClientUnix(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "chat.sock")
	server := start(ctx, t, "selam\n", "server", "-network", "unix", "-host", path)
	server.listening(ctx, t)
	client := start(ctx, t, "merhaba\nbye\n", "client", "-network", "unix", "-host", path)

	assert.Equal(t, 0, client.wait(ctx, t), "client exit code")
	assert.Equal(t, 0, server.wait(ctx, t), "server exit code")
	assert.Equal(t, transcript("-> merhaba", "SUNUCU > selam", "-> bye"), client.stdout.String())
	assert.Contains(t, server.stderr.String(), `the client said goodbye ("bye")`)
}

// TestClientEndOfInput: the end of the client's input is a goodbye: the client sends
// "bye", and the server ends cleanly.
func TestClientEndOfInput(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	server := start(ctx, t, "selam\n", "server", "-host", "127.0.0.1", "-port", "0")
	addr := server.listening(ctx, t)
	client := start(ctx, t, "merhaba", "client", "-host", "127.0.0.1", "-port", port(t, addr)) // no final newline

	assert.Equal(t, 0, client.wait(ctx, t), "client exit code")
	assert.Equal(t, 0, server.wait(ctx, t), "server exit code")
	assert.Equal(t, transcript("-> merhaba", "SUNUCU > selam", "-> "), client.stdout.String())
	assert.Contains(t, client.stderr.String(), "end of input: saying goodbye")
	assert.Contains(t, server.stderr.String(), `the client said goodbye ("bye")`)
}

// TestServerSaysGoodbye: the server's operator types a close key, or its input ends;
// either way the server sends a close key and both sides end cleanly.
func TestServerSaysGoodbye(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ input, key, note string }{
		"close key":    {input: "selam\nKAPAT\n", key: "kapat"},
		"end of input": {input: "selam\n", key: "bye", note: "end of input: saying goodbye"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			server := start(ctx, t, tc.input, "server", "-host", "127.0.0.1", "-port", "0")
			addr := server.listening(ctx, t)
			client := start(ctx, t, "merhaba\nnasılsın?\nnever sent\n", "client", "-host", "127.0.0.1", "-port", port(t, addr))

			assert.Equal(t, 0, server.wait(ctx, t), "server exit code")
			assert.Equal(t, 0, client.wait(ctx, t), "client exit code")
			assert.Equal(t, transcript("-> merhaba", "SUNUCU > selam", "-> nasılsın?"), client.stdout.String())
			assert.Contains(t, client.stderr.String(), `the server said goodbye ("`+tc.key+`")`)
			assert.Contains(t, server.stderr.String(), tc.note)
		})
	}
}

// TestServerClientLeaves: a client that disconnects without a close key (as the
// tutorial's client.py does) ends the server's conversation, with exit code 0.
func TestServerClientLeaves(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	server := start(ctx, t, "selam\n", "server", "-host", "127.0.0.1", "-port", "0")
	addr := server.listening(ctx, t)

	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_, err = conn.Write([]byte("merhaba"))
	require.NoError(t, err)
	reply := make([]byte, 100)
	n, err := conn.Read(reply)
	require.NoError(t, err)
	assert.Equal(t, "selam", string(reply[:n]), "raw framing: the bytes as typed, nothing added")
	require.NoError(t, conn.Close())

	assert.Equal(t, 0, server.wait(ctx, t), "server exit code")
	assert.Equal(t, transcript("CLIENT: merhaba", "-> selam"), server.stdout.String())
	assert.Contains(t, server.stderr.String(), "the client left")
}

// TestDefaultHost: with no -host both programs use this machine's name, as the
// tutorial's socket.gethostname() does. (The port is still chosen free, so that the test
// does not depend on 61000 being unused.)
func TestDefaultHost(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Skipf("no host name: %v", err)
	}
	if _, err := net.LookupHost(host); err != nil {
		t.Skipf("this machine's name %q does not resolve, so the defaults cannot work here: %v", host, err)
	}
	ctx := testContext(t)
	server := start(ctx, t, "selam\n", "server", "-port", "0")
	addr := server.listening(ctx, t)
	client := start(ctx, t, "merhaba\nq\n", "client", "-port", port(t, addr))

	assert.Equal(t, 0, client.wait(ctx, t), "client exit code")
	assert.Equal(t, 0, server.wait(ctx, t), "server exit code")
	assert.Equal(t, transcript("-> merhaba", "SUNUCU > selam", "-> q"), client.stdout.String())
}

// TestClientNoServer: nothing listening is an error with a hint, and exit code 1.
func TestClientNoServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // a port that nothing listens on (now)

	client := start(ctx, t, "merhaba\n", "client", "-host", "127.0.0.1", "-port", port(t, addr))
	assert.Equal(t, 1, client.wait(ctx, t), "client exit code")
	assert.Contains(t, client.stderr.String(), "connection refused")
	assert.Contains(t, client.stderr.String(), "start the server first")
}

// TestBadFlags: a flag the program does not know exits 2 with the usage; -h exits 0.
func TestBadFlags(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	for _, name := range programs {
		bad := start(ctx, t, "", name, "-no-such-flag")
		assert.Equal(t, 2, bad.wait(ctx, t), "%s -no-such-flag", name)
		assert.Contains(t, bad.stderr.String(), "Usage of "+name)
		help := start(ctx, t, "", name, "-h")
		assert.Equal(t, 0, help.wait(ctx, t), "%s -h", name)
	}
	framing := start(ctx, t, "", "server", "-framing", "telegraph")
	assert.Equal(t, 1, framing.wait(ctx, t))
	assert.Contains(t, framing.stderr.String(), `unknown framing "telegraph"`)
}

// TestInterrupt: Ctrl-C (SIGINT) is a goodbye: while the server waits for its operator's
// answer, it sends the close key and exits 0, and so does the client; before any client
// came, the server just exits 0.
func TestInterrupt(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	server := startSilent(ctx, t, "server", "-host", "127.0.0.1", "-port", "0")
	addr := server.listening(ctx, t)
	client := start(ctx, t, "merhaba\n", "client", "-host", "127.0.0.1", "-port", port(t, addr))
	server.stdout.waitFor(ctx, t, lit("CLIENT: merhaba\n-> "))
	server.signal(t, syscall.SIGINT)

	assert.Equal(t, 0, server.wait(ctx, t), "server exit code")
	assert.Equal(t, 0, client.wait(ctx, t), "client exit code")
	assert.Contains(t, server.stderr.String(), "interrupted: saying goodbye")
	assert.Contains(t, client.stderr.String(), `the server said goodbye ("bye")`)

	idle := startSilent(ctx, t, "server", "-host", "127.0.0.1", "-port", "0")
	idle.listening(ctx, t)
	idle.signal(t, syscall.SIGINT)
	assert.Equal(t, 0, idle.wait(ctx, t), "server exit code")
	assert.Contains(t, idle.stderr.String(), "interrupted before any client came")
}
