package sockmsg_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUDPLoadLossIsAccounted floods a Server on a UDP listener with numbered datagrams
// from many peers at once and checks that UDP's losses are measured, not hidden: every
// datagram sent was either received (once, in order: loopback does not reorder) or
// counted as dropped, by a conversation's queue, the listener's backlog, or the system's
// receive buffer. RELIABILITY.md has the full-size figures.
//
// Two shapes of load: a flood, where every peer sends as fast as it can (in one process
// on two cores, the senders starve the listener's reader, so most datagrams die in the
// system's receive buffer: the point is that every one of them is counted), and a
// windowed run, where each peer waits for an acknowledgement every window datagrams (or
// for a short timeout, if a datagram of the window was lost), as a real protocol on UDP
// would.
func TestUDPLoadLossIsAccounted(t *testing.T) {
	for _, window := range []int{0, 32} {
		name := "flood"
		if window > 0 {
			name = fmt.Sprintf("window%d", window)
		}
		t.Run(name, func(t *testing.T) { udpLoad(t, window) })
	}
}

func udpLoad(t *testing.T, window int) {
	peers, each := scale(100, 20), scale(10000, 500)
	ctx := testTimeout(t, 2*time.Minute)
	checkNoFileLeak(t)

	var (
		mu         sync.Mutex
		convs      []*sockmsg.Conversation
		received   atomic.Uint64
		probes     atomic.Uint64
		outOfOrder atomic.Uint64
		probesSent uint64
	)
	srv := &sockmsg.Server{Handler: func(ctx context.Context, c *sockmsg.Conversation) error {
		mu.Lock()
		convs = append(convs, c)
		mu.Unlock()
		last := -1
		buf := make([]byte, 0, 64)
		for {
			var err error
			if buf, err = c.AppendRecvContext(ctx, buf[:0]); err != nil {
				return nil
			}
			if string(buf) == "probe" {
				probes.Add(1)
				continue
			}
			var id, seq int
			if _, err := fmt.Sscanf(string(buf), "%d:%d", &id, &seq); err != nil {
				return err
			}
			if seq <= last {
				outOfOrder.Add(1)
			}
			last = seq
			received.Add(1)
			if window > 0 && seq%window == window-1 {
				if err := c.SendString("ack"); err != nil {
					return err
				}
			}
		}
	}}
	s := serve(t, ctx, packetTransports[0], &sockmsg.Config{IdleTimeout: -1}, srv)

	start := time.Now()
	var wg sync.WaitGroup
	for id := range peers {
		c := s.dial(t, ctx, nil)
		wg.Go(func() {
			var msg, ack []byte
			for seq := range each {
				msg = fmt.Appendf(msg[:0], "%d:%d", id, seq)
				assert.NoError(t, c.Send(msg))
				if window > 0 && seq%window == window-1 {
					// Wait for the acknowledgement, or go on if it (or a datagram of
					// the window) was lost.
					wait, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
					ack, _ = c.AppendRecvContext(wait, ack[:0])
					cancel()
				}
			}
		})
	}
	wg.Wait()
	sent := uint64(peers * each)
	elapsed := time.Since(start)

	// The system reports its drops with the next datagram it delivers, so a probe is
	// sent whenever the count does not add up yet, and looked at on the next tick.
	probe := s.dial(t, ctx, nil)
	var dropped, systemDropped uint64
	accounted := func() bool {
		st := s.ln.Stats()
		dropped, systemDropped = st.Dropped, st.SystemDropped
		mu.Lock()
		for _, c := range convs {
			dropped += c.Stats().Dropped
		}
		mu.Unlock()
		if received.Load()+probes.Load()+dropped+systemDropped == sent+probesSent {
			return true
		}
		require.NoError(t, probe.SendString("probe"))
		probesSent++
		return false
	}
	require.Eventually(t, accounted, time.Minute, 10*time.Millisecond,
		"sent %d (+%d probes), received %d (+%d probes), dropped %d by sockmsg and %d by the system",
		sent, probesSent, received.Load(), probes.Load(), dropped, systemDropped)
	assert.Zero(t, outOfOrder.Load(), "duplicated or reordered datagrams")
	lost := sent - received.Load()
	t.Logf("udp %s: %d peers × %d datagrams = %d sent in %v: %d received, %d lost (%.2f%%): %d counted by sockmsg's queues, %d by the system's receive buffer",
		t.Name(), peers, each, sent, elapsed.Round(time.Millisecond), received.Load(), lost, 100*float64(lost)/float64(sent), dropped, systemDropped)
	require.NoError(t, s.stop())
}
