package bench

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(idleChildEnv); spec != "" {
		raiseFDLimit()
		os.Exit(idleChild(spec))
	}
	raiseFDLimit()
	os.Exit(m.Run())
}

// tcpPeers are the peers of the TCP scenarios, raw first: ratios are to it.
func tcpPeers() []peer { return []peer{rawTCP, sockmsgTCP, gorillaPeer, coderPeer, zmq4Peer} }

// udpPeers are the peers of the UDP scenarios.
func udpPeers() []peer { return []peer{rawUDP, sockmsgUDP, sockmsgUDPConnected, pionPeer} }

// batchPeers are the peers with a batching send path.
func batchPeers() []peer { return []peer{rawTCP, sockmsgTCP} }
