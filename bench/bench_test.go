package bench

import (
	"sync"
	"testing"
	"time"
)

// Run: go test -run '^$' -bench . -benchmem (about a minute; see doc.go and
// BENCHMARKS.md). Each sub-benchmark is Benchmark<Scenario>/<peer> and
// reports msgs/s, counted by the receiving side.

func BenchmarkTCPPingPong64(b *testing.B) { benchPeers(b, tcpPeers(), pingPong, opts{size: 64}) }

func BenchmarkTCPStream64(b *testing.B) { benchPeers(b, tcpPeers(), stream, opts{size: 64}) }

func BenchmarkTCPStreamBatch64(b *testing.B) {
	benchPeers(b, batchPeers(), streamBatch, opts{size: 64})
}

func BenchmarkTCPStream4K(b *testing.B) { benchPeers(b, tcpPeers(), stream, opts{size: 4 << 10}) }

func BenchmarkTCPStream64K(b *testing.B) { benchPeers(b, tcpPeers(), stream, opts{size: 64 << 10}) }

func BenchmarkUDPPingPong64(b *testing.B) { benchPeers(b, udpPeers(), pingPong, opts{size: 64}) }

func BenchmarkUDPStream64(b *testing.B) { benchPeers(b, udpPeers(), udpStream, opts{size: 64}) }

func BenchmarkEchoServer64x64(b *testing.B) {
	benchPeers(b, tcpPeers(), echoServer, opts{size: 64, clients: 64})
}

// benchPeers runs sc for each peer as a sub-benchmark named after it. Every
// message must arrive (UDP stream: loss is reported instead, as loss%).
func benchPeers(b *testing.B, peers []peer, sc scenario, o opts) {
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			run := sc(b, p, o)
			b.ReportAllocs()
			b.SetBytes(int64(o.size))
			b.ResetTimer()
			start := time.Now()
			r := run(b.N)
			end := time.Now()
			b.StopTimer()
			if r.err != nil {
				b.Fatalf("%s: %v", p.name, r.err)
			}
			if r.sent > 0 { // datagrams: some may be lost
				if r.msgs == 0 {
					b.Fatalf("%s: none of %d datagrams arrived", p.name, r.sent)
				}
				// Time to the last arrival, not to the end of the drain wait.
				end = r.last
				b.ReportMetric(float64(end.Sub(start).Nanoseconds())/float64(b.N), "ns/op")
				b.ReportMetric(100*float64(r.sent-r.msgs)/float64(r.sent), "loss%")
			} else if r.msgs != int64(b.N) || r.bytes != int64(b.N)*int64(o.size) {
				b.Fatalf("%s: %d messages (%d bytes) arrived, want %d (%d bytes)",
					p.name, r.msgs, r.bytes, b.N, b.N*o.size)
			}
			b.ReportMetric(float64(r.msgs)/end.Sub(start).Seconds(), "msgs/s")
		})
	}
}

// idleCache keeps each peer's IdleConversations result: the experiment runs
// once (when the benchmark is called with b.N == 1, once per -count), and the
// calls with larger b.N report it again instead of opening another 10,000.
var idleCache sync.Map // peer name -> idleResult

func BenchmarkIdleConversations(b *testing.B) {
	for _, p := range idlePeers() {
		b.Run(p.name, func(b *testing.B) {
			v, ok := idleCache.Load(p.name)
			if b.N == 1 || !ok {
				b.StopTimer()
				v = idleConversations(b, p, idleN)
				idleCache.Store(p.name, v)
			}
			r := v.(idleResult)
			b.ReportMetric(r.bytesPerConv, "bytes/conv")
			b.ReportMetric(r.stackPerConv, "stack-bytes/conv")
			b.ReportMetric(float64(r.convs), "convs")
			b.ReportMetric(float64(r.perConv.Nanoseconds()), "ns/op") // setup per conversation
		})
	}
}
