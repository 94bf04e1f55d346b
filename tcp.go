package sockmsg

import (
	"context"
	"net"
)

// dialStream connects a stream socket: TCP (with TCP_NODELAY, Go's default, so small
// messages leave at once) or unix, and runs the TLS handshake when the Config asks for TLS.
func dialStream(ctx context.Context, s settings, address string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, s.network, address)
	if err != nil || s.tls == nil {
		return conn, err
	}
	return dialTLS(ctx, conn, s, address)
}

// listenStream opens a listening stream socket. Its backlog is the system's
// (net.core.somaxconn), as with net.Listen. A unix socket's file is removed on Close.
// With TLS, accepted connections are wrapped for a handshake on first use.
func listenStream(ctx context.Context, s settings, address string) (acceptor, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, s.network, address)
	if err != nil {
		return nil, err
	}
	if s.tls != nil {
		return listenTLS(ln.(acceptor), s)
	}
	return ln.(acceptor), nil
}
