package sockmsg

import (
	"context"
	"net"
)

// dialStream connects a stream socket: TCP (with TCP_NODELAY, Go's default, so small
// messages leave at once) or unix.
func dialStream(ctx context.Context, s settings, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, s.network, address)
}

// listenStream opens a listening stream socket. Its backlog is the system's
// (net.core.somaxconn), as with net.Listen. A unix socket's file is removed on Close.
func listenStream(ctx context.Context, s settings, address string) (acceptor, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, s.network, address)
	if err != nil {
		return nil, err
	}
	return ln.(acceptor), nil
}
