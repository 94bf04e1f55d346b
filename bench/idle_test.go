package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// IdleConversations measures what a server pays to hold open conversations
// that say nothing: each one greeted once, then a goroutine blocked in Recv,
// the idiomatic server loop. The clients live in a child process (this test
// binary again), so the parent's memory holds only the server side and each
// process needs only one descriptor per conversation.

// idleWant is how many conversations IdleConversations opens (fewer when the
// descriptor limit does not allow it; see raiseFDLimit).
const idleWant = 10_000

// idleN is the number of conversations the fd limit allows, set by TestMain.
var idleN = idleWant

const idleChildEnv = "SOCKMSG_BENCH_IDLE_CHILD" // "peer addr n"

const idleMsgSize = 64

type idleResult struct {
	convs        int
	bytesPerConv float64       // HeapInuse+StackInuse growth per conversation
	stackPerConv float64       // the StackInuse part of it
	perConv      time.Duration // setup time per conversation
}

func idleConversations(tb testing.TB, p peer, n int) idleResult {
	var greeted sync.WaitGroup
	greeted.Add(n)
	var bad atomic.Int64
	before, stackBefore := memInUse()
	start := time.Now()
	addr := p.serve(tb, idleMsgSize, func(c msgConn) {
		var buf []byte
		for first := true; ; first = false {
			m, err := c.Recv(buf[:0])
			if first {
				if err != nil || check(m, 0, idleMsgSize, true) != nil {
					bad.Add(1)
				}
				greeted.Done()
			}
			if err != nil {
				return
			}
			buf = m
		}
	})

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", idleChildEnv, p.name, addr, n))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopChild := func() {
		_ = stdin.Close() // the child leaves when its stdin ends
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	all := make(chan struct{})
	go func() { greeted.Wait(); close(all) }()
	select {
	case <-all:
	case err := <-exited:
		tb.Fatalf("%s: idle client exited early: %v\n%s", p.name, err, stderr.String())
	case <-time.After(3 * time.Minute):
		stopChild()
		tb.Fatalf("%s: not all %d conversations greeted in time", p.name, n)
	}
	elapsed := time.Since(start)
	after, stackAfter := memInUse()
	stopChild()
	if k := bad.Load(); k > 0 {
		tb.Fatalf("%s: %d of %d greetings lost or damaged", p.name, k, n)
	}
	return idleResult{
		convs:        n,
		bytesPerConv: float64(int64(after)-int64(before)) / float64(n),
		stackPerConv: float64(int64(stackAfter)-int64(stackBefore)) / float64(n),
		perConv:      elapsed / time.Duration(n),
	}
}

// memInUse is the heap and stack memory in use after a full collection, and
// the stack part of it.
func memInUse() (total, stack uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse, ms.StackInuse
}

// idleChild is the child process: it opens n conversations to addr with the
// named peer, greets on each, and holds them until its stdin ends.
func idleChild(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 3 {
		fmt.Fprintf(os.Stderr, "bad %s=%q\n", idleChildEnv, spec)
		return 2
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	p, ok := peerByName(idlePeers(), f[0])
	if !ok {
		fmt.Fprintf(os.Stderr, "no idle peer %q\n", f[0])
		return 2
	}
	greeting := newMsg(idleMsgSize)
	stamp(greeting, 0)
	conns := make([]msgConn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for i := range n {
		c, err := p.dial(f[1], idleMsgSize)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dial %d: %v\n", i, err)
			return 1
		}
		conns = append(conns, c)
		if err := c.Send(greeting); err != nil {
			fmt.Fprintf(os.Stderr, "greet %d: %v\n", i, err)
			return 1
		}
	}
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	return 0
}

func peerByName(peers []peer, name string) (peer, bool) {
	for _, p := range peers {
		if p.name == name {
			return p, true
		}
	}
	return peer{}, false
}

func idlePeers() []peer {
	var ps []peer
	for _, p := range tcpPeers() {
		if p.idle {
			ps = append(ps, p)
		}
	}
	return ps
}
