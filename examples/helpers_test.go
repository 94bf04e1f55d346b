package examples_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// programs are the example commands the tests build and run.
var programs = []string{"server", "client", "udpserver", "udpclient", "echo", "chat"}

// binDir holds the programs, built once by TestMain.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sockmsg-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if raceEnabled {
		args = append(args, "-race")
	}
	for _, p := range programs {
		args = append(args, "./"+p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the examples: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	return m.Run()
}

// testTimeout bounds each test; every process and wait in it ends by then.
const testTimeout = 30 * time.Second

// testContext returns a context that ends with the test or after testTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// output collects what a process writes and lets a test wait for a pattern in it.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor waits until the output matches re and returns the submatches.
func (o *output) waitFor(ctx context.Context, t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	for {
		o.mu.Lock()
		m := re.FindStringSubmatch(o.buf.String())
		changed := o.changed
		o.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-changed:
		case <-ctx.Done():
			require.FailNowf(t, "output never matched", "pattern %q; output so far:\n%s", re, o.String())
		}
	}
}

// proc is a running example program (or python script).
type proc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr *output
	done           chan struct{}
	err            error // of Wait, once done is closed
}

// start runs a program built by TestMain with stdin piped from the given text; the
// process is killed when ctx ends. The outputs are logged if the test fails.
func start(ctx context.Context, t *testing.T, stdin, name string, args ...string) *proc {
	t.Helper()
	return startCmd(ctx, t, strings.NewReader(stdin), name, filepath.Join(binDir, name), args...)
}

// startSilent is start with an input that stays open and silent, as a terminal where
// nobody types, until the test ends.
func startSilent(ctx context.Context, t *testing.T, name string, args ...string) *proc {
	t.Helper()
	// An *os.File is handed to the child as it is: no copying goroutine that Wait
	// would have to wait for.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	p := startCmd(ctx, t, r, name, filepath.Join(binDir, name), args...)
	require.NoError(t, r.Close()) // the child has its own copy
	return p
}

func startCmd(ctx context.Context, t *testing.T, stdin io.Reader, name, path string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, stdout: newOutput(), stderr: newOutput(), done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, path, args...)
	p.cmd.Stdin = stdin
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8", "PYTHONUNBUFFERED=1")
	p.cmd.WaitDelay = time.Second
	require.NoError(t, p.cmd.Start(), "starting %s", name)
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s %q: %v\n--- stdout:\n%s\n--- stderr:\n%s", name, args, p.err, p.stdout, p.stderr)
		}
	})
	return p
}

// wait waits for the process to end and returns its exit code.
func (p *proc) wait(ctx context.Context, t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-ctx.Done():
		require.FailNowf(t, "process did not exit", "%s; stdout:\n%s\nstderr:\n%s", p.name, p.stdout, p.stderr)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(t, p.err, "%s", p.name)
	return 0
}

// signal sends sig to the process.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
}

// listeningRE finds the address a server prints when it is ready.
var listeningRE = regexp.MustCompile(`listening on (\S+)`)

// listening waits for the server to say where it listens and returns that address.
func (p *proc) listening(ctx context.Context, t *testing.T) string {
	t.Helper()
	return p.stderr.waitFor(ctx, t, listeningRE)[1]
}

// port returns the port of a "host:port" address.
func port(t *testing.T, addr string) string {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	require.Positive(t, i, "address %q has no port", addr)
	return addr[i+1:]
}

// lit returns a pattern matching s literally.
func lit(s string) *regexp.Regexp { return regexp.MustCompile(regexp.QuoteMeta(s)) }
