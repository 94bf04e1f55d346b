package sockmsg

import (
	"context"
	"net"
)

// defaultDatagramSize is the default MaxMessageSize of a packet network: the largest
// UDP payload over IPv4.
func defaultDatagramSize(network string) int { return 65507 }

// dialPacket connects a datagram socket to one peer.
func dialPacket(ctx context.Context, s settings, address string) (net.Conn, error) {
	return nil, &NetworkError{Network: s.network}
}

// listenPacket opens a datagram socket and demultiplexes its peers.
func listenPacket(ctx context.Context, s settings, address string) (acceptor, error) {
	return nil, &NetworkError{Network: s.network}
}
