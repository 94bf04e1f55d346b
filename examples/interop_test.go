package examples_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// python starts one of the tutorial's programs as kept in testdata (seed_server.py,
// seed_client.py), or skips the test where python3 is absent.
func python(ctx context.Context, t *testing.T, stdin, script string, args ...string) *proc {
	t.Helper()
	path, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("python3 is not installed, so the Go examples cannot be tested against the tutorial's Python programs: %v", err)
	}
	return startCmd(ctx, t, strings.NewReader(stdin), script, path, append([]string{filepath.Join("testdata", script)}, args...)...)
}

// TestGoClientPythonServer: examples/client, with its default wire format, talks to the
// tutorial's server.py; the close key it sends (typed "EXİT", sent as "exit", which
// Python's lower() understands) ends server.py cleanly, which the original client.py
// never did.
func TestGoClientPythonServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	server := python(ctx, t, "selam\n"+turkish2+"\n", "seed_server.py", "127.0.0.1", "0")
	addr := server.listening(ctx, t)
	client := start(ctx, t, "merhaba\n"+turkish1+"\nEXİT\n", "client", "-host", "127.0.0.1", "-port", port(t, addr))

	assert.Equal(t, 0, client.wait(ctx, t), "client exit code")
	assert.Equal(t, 0, server.wait(ctx, t), "server.py exit code")
	assert.Equal(t, transcript(
		"-> merhaba", "SUNUCU > selam",
		"-> "+turkish1, "SUNUCU > "+turkish2,
		"-> EXİT"), client.stdout.String())
	// Python prints its prompt and does not echo piped input.
	assert.Equal(t, "CLIENT: merhaba\n-> CLIENT: "+turkish1+"\n-> ", server.stdout.String())
	assert.Contains(t, server.stderr.String(), "client said goodbye")
}

// TestPythonClientGoServer: the tutorial's client.py talks to examples/server with its
// defaults; client.py leaves on a close key without sending it, and the Go server takes
// the disconnection as the end (server.py would loop for ever) and exits 0.
func TestPythonClientGoServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	server := start(ctx, t, "selam\n"+turkish2+"\n", "server", "-host", "127.0.0.1", "-port", "0")
	addr := server.listening(ctx, t)
	client := python(ctx, t, "merhaba\n"+turkish1+"\nbye\n", "seed_client.py", "127.0.0.1", port(t, addr))

	assert.Equal(t, 0, client.wait(ctx, t), "client.py exit code")
	assert.Equal(t, 0, server.wait(ctx, t), "server exit code")
	assert.Equal(t, "-> SUNUCU > selam\n-> SUNUCU > "+turkish2+"\n-> ", client.stdout.String())
	assert.Equal(t, transcript(
		"CLIENT: merhaba", "-> selam",
		"CLIENT: "+turkish1, "-> "+turkish2), server.stdout.String())
	assert.Contains(t, server.stderr.String(), "the client left")
}

// TestPythonClientGoServerGoodbye: the Go server's operator says goodbye; client.py,
// which knows nothing of close keys in answers, prints it and then finds the server
// gone.
func TestPythonClientGoServerGoodbye(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	server := start(ctx, t, "selam\nbye\n", "server", "-host", "127.0.0.1", "-port", "0")
	addr := server.listening(ctx, t)
	client := python(ctx, t, "merhaba\nnasılsın?\nhâlâ orada mısın?\n", "seed_client.py", "127.0.0.1", port(t, addr))

	assert.Equal(t, 0, server.wait(ctx, t), "server exit code")
	assert.Equal(t, 0, client.wait(ctx, t), "client.py exit code")
	assert.Equal(t, "-> SUNUCU > selam\n-> SUNUCU > bye\n-> ", client.stdout.String())
	assert.Contains(t, client.stderr.String(), "server left")
}
