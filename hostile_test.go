package sockmsg_test

import (
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostileInput attacks a Server with what a hostile or broken peer sends, while a
// probe client keeps asking for echoes: every attack ends its own conversation with a
// clear error, memory stays bounded, and the probe is served promptly throughout.
func TestHostileInput(t *testing.T) {
	resets, lorises := scale(1000, 100), scale(1000, 50)
	raiseFileLimit(t, uint64(2*lorises+200))
	for _, tr := range streamTransports {
		for _, framing := range []sockmsg.Framing{sockmsg.Lines, sockmsg.LengthPrefixed} {
			t.Run(tr.name+"/"+framing.String(), func(t *testing.T) {
				checkNoFileLeak(t)
				ctx := testTimeout(t, 5*time.Minute)
				heapBefore := heapInUse()
				cfg := &sockmsg.Config{Framing: framing}
				srv := &sockmsg.Server{Handler: echo, MaxConversations: -1, IdleTimeout: time.Second}
				s := serve(t, ctx, tr, cfg, srv)

				// The probe: round trips until the attacks are over; the slowest is kept.
				probe := s.dial(t, ctx, cfg)
				attacksOver := make(chan struct{})
				probeDone := make(chan time.Duration)
				go func() {
					var slowest time.Duration
					defer func() { probeDone <- slowest }()
					for {
						select {
						case <-attacksOver:
							return
						default:
						}
						start := time.Now()
						if probe.SendString("probe") != nil {
							return
						}
						if msg, err := probe.RecvString(); err != nil || msg != "probe" {
							return
						}
						slowest = max(slowest, time.Since(start))
					}
				}()

				frame := func(payload string) []byte { // a frame in the conversation's framing
					if framing == sockmsg.Lines {
						return []byte(payload + "\n")
					}
					n := len(payload)
					return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, payload...)
				}
				attack := func(payload []byte) error { // sends payload and reads until the end
					conn := s.rawDial(t, ctx)
					defer conn.Close()
					_, _ = conn.Write(payload) // the server may hang up before it has all
					_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
					buf := make([]byte, 1024)
					for {
						if _, err := conn.Read(buf); err != nil {
							return err
						}
					}
				}

				// Oversize, huge and malformed frames: each ends its conversation.
				oversize := []string{"oversize frame"}
				var endless []byte
				if framing == sockmsg.Lines {
					endless = []byte(strings.Repeat("x", 1<<20)) // an endless line
				} else {
					endless = []byte{0xff, 0xff, 0xff, 0xff, 'x'} // a 4 GiB length header
				}
				assert.Error(t, attack(endless), "endless or huge frame")
				if framing == sockmsg.LengthPrefixed {
					oversize = append(oversize, "malformed header")
					assert.Error(t, attack([]byte{0, 1, 0, 1, 'x'}), "header just over the limit")
					assert.Error(t, attack([]byte{0, 0}), "half a header, then the end")
				}
				assert.Error(t, attack(frame(strings.Repeat("y", sockmsg.DefaultMaxMessageSize+1))), "one byte over the limit")

				// Garbage and invalid UTF-8 are bytes like any others: echoed intact.
				garbage := s.dial(t, ctx, cfg)
				for _, g := range []string{"\xff\xfe\xfd", "\x00\x01\x02 ctrl", "ç\xc3(", "EX\xc4\xb0T?"} {
					roundTrip(t, garbage, g)
				}

				// A thousand peers that connect and reset at once, a few dozen at a time.
				var wg sync.WaitGroup
				sem := make(chan struct{}, 32)
				for range resets {
					sem <- struct{}{}
					wg.Go(func() {
						defer func() { <-sem }()
						var d net.Dialer
						conn, err := d.DialContext(ctx, tr.network, s.ln.Addr().String())
						if err == nil {
							reset(conn)
						}
					})
				}
				wg.Wait()

				// Slowloris: peers that send half a message and stall, all at once.
				var lorisEnded atomic.Int64
				held := make([]net.Conn, lorises)
				for i := range held {
					held[i] = s.rawDial(t, ctx)
					_, err := held[i].Write(frame("half a message")[:5])
					require.NoError(t, err)
				}
				heapAttacked := heapInUse()
				for _, conn := range held {
					wg.Go(func() {
						defer conn.Close()
						_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
						buf := make([]byte, 64)
						for {
							if _, err := conn.Read(buf); err != nil {
								if !errors.Is(err, os.ErrDeadlineExceeded) {
									lorisEnded.Add(1)
								}
								return
							}
						}
					})
				}
				wg.Wait()
				assert.Equal(t, int64(lorises), lorisEnded.Load(), "every slowloris was hung up on")

				close(attacksOver)
				slowest := <-probeDone
				assert.Less(t, slowest, 2*time.Second, "the probe was served promptly throughout")
				roundTrip(t, probe, "still here")
				require.NoError(t, s.stop())
				st := srv.Stats()
				assert.GreaterOrEqual(t, st.IdleTimeouts, uint64(lorises))
				var sizeErrors int
				for _, err := range s.errs.all() {
					if errors.Is(err, sockmsg.ErrMessageTooLarge) {
						sizeErrors++
					}
				}
				assert.Equal(t, len(oversize)+1, sizeErrors, "oversize frames reported")
				growth := int64(heapAttacked) - int64(heapBefore)
				assert.Less(t, growth, int64(64<<20), "memory stays bounded under attack")
				t.Logf("%s/%s: %d connect-and-reset peers, %d slowloris held at once, oversize/huge/malformed frames: heap %.1f MiB before, %.1f MiB under attack; slowest probe round trip %v; %+v",
					tr.name, framing, resets, lorises, mib(heapBefore), mib(heapAttacked), slowest.Round(time.Microsecond), st)
			})
		}
	}
}
