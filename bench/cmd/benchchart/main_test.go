package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/sockmsg/sockmsg/bench
cpu: AMD EPYC
BenchmarkTCPPingPong64/raw-2   	   17088	     14000 ns/op	   4.40 MB/s	     70000 msgs/s	       0 B/op	       0 allocs/op
BenchmarkTCPPingPong64/raw-2   	   17088	     16000 ns/op	   4.40 MB/s	     60000 msgs/s	       0 B/op	       0 allocs/op
BenchmarkTCPPingPong64/raw-2   	   17088	     15000 ns/op	   4.40 MB/s	     65000 msgs/s	       0 B/op	       0 allocs/op
BenchmarkTCPPingPong64/sockmsg-2         	   17062	     14709 ns/op	   4.35 MB/s	     52000 msgs/s	       0 B/op	       0 allocs/op
BenchmarkUDPStream64/raw-2               	   65688	      5035 ns/op	  12.71 MB/s	         3.033 loss%	    276431 msgs/s	       0 B/op	       0 allocs/op
BenchmarkUDPStream64/sockmsg
    peer_sockmsg_test.go:47: sockmsg has no udp transport yet
--- SKIP: BenchmarkUDPStream64/sockmsg
BenchmarkIdleConversations/raw-2         	1000000000	     68934 ns/op	      8000 bytes/conv	     10000 convs	       0 B/op	       0 allocs/op
BenchmarkIdleConversations/sockmsg-2     	1000000000	     67703 ns/op	      12000 bytes/conv	     10000 convs	       0 B/op	       0 allocs/op
PASS
`

func TestParseMedianAndOrder(t *testing.T) {
	rs, info, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	assert.Equal(t, "AMD EPYC", info.cpu)
	require.Len(t, rs, 6)
	assert.Equal(t, "TCPPingPong64", rs[0].scenario)
	assert.Equal(t, "raw", rs[0].peer)
	assert.Equal(t, 3, rs[0].runs)
	assert.Equal(t, "sockmsg has no udp transport yet", rs[3].skipped)
	assert.InDelta(t, 65000, rs[0].metrics["msgs/s"], 0.1, "median of three")
	assert.InDelta(t, 3.033, rs[2].metrics["loss%"], 1e-9)
	assert.InDelta(t, 0.8, ratio(rs[1], rs), 1e-9)
	assert.InDelta(t, 1.5, ratio(rs[5], rs), 1e-9, "idle: bytes/conv ratio")
}

func TestTableAndSVG(t *testing.T) {
	dir := t.TempDir()
	svg := filepath.Join(dir, "c.svg")
	var out bytes.Buffer
	require.NoError(t, run([]string{"-svg", svg}, strings.NewReader(sample), &out))
	table := out.String()
	assert.Contains(t, table, "| TCPPingPong64 | sockmsg | 52,000 | — | 14,709 | 0 | 0 | 0.80x |")
	assert.Contains(t, table, "1.50x (bytes/conv)")
	assert.Contains(t, table, "| TCPPingPong64 | raw | 65,000 | ±8% |", "half the range over the median")
	assert.Contains(t, table, "3.03 loss%")
	assert.Contains(t, table, "| UDPStream64 | sockmsg | — | — | — | — | — | — | skipped: sockmsg has no udp transport yet |")

	data, err := os.ReadFile(svg)
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(data, new(struct{})), "well-formed XML")
	assert.Contains(t, string(data), "0.80x  52,000 msgs/s")
	assert.Contains(t, string(data), "lower is better")
}

func TestSkipReasonAfterTheSkipLine(t *testing.T) {
	rs, _, err := parse(strings.NewReader("--- SKIP: BenchmarkUDPPingPong64/sockmsg\n    x_test.go:1: no udp\n"))
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, "no udp", rs[0].skipped)
}

func TestNoResults(t *testing.T) {
	assert.Error(t, run(nil, strings.NewReader("PASS\n"), new(bytes.Buffer)))
}

func TestShorten(t *testing.T) {
	assert.Equal(t, "abc", shorten("abc", 3))
	assert.Equal(t, "ab…", shorten("abcd", 3))
}

func TestNum(t *testing.T) {
	assert.Equal(t, "1,234,567", num(1234567))
	assert.Equal(t, "3.03", num(3.033))
	assert.Equal(t, "0", num(0))
	assert.Equal(t, "100", num(100))
}
