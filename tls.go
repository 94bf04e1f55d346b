package sockmsg

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"
)

// resolveTLS checks the TLS configuration for the network and returns the clone a
// conversation uses, with MinVersion at least TLS 1.2. The caller's Config is not changed.
func resolveTLS(cfg *tls.Config, network string, packet bool) (*tls.Config, error) {
	if cfg == nil {
		return nil, nil
	}
	if packet {
		return nil, fmt.Errorf("%w: TLS cannot be used on %q: it needs a stream network (tcp, tcp4, tcp6, unix)", ErrInvalidConfig, network)
	}
	c := cfg.Clone()
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	if c.MaxVersion != 0 && c.MaxVersion < tls.VersionTLS12 {
		return nil, fmt.Errorf("%w: TLS MaxVersion is below TLS 1.2, the lowest version sockmsg speaks", ErrInvalidConfig)
	}
	return c, nil
}

// tlsListener hands out the server side of a TLS connection for every accepted one. The
// handshake is not run here but on the conversation's first I/O, so a slow client never
// holds up Accept. It keeps the inner listener's SetDeadline, which AcceptContext needs.
type tlsListener struct {
	acceptor
	config *tls.Config
}

func (l tlsListener) Accept() (net.Conn, error) {
	conn, err := l.acceptor.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(conn, l.config), nil
}

func listenTLS(ln acceptor, s settings) (acceptor, error) {
	if s.tls.Certificates == nil && s.tls.GetCertificate == nil && s.tls.GetConfigForClient == nil {
		_ = ln.Close()
		return nil, fmt.Errorf("%w: a TLS listener needs a certificate: set TLS.Certificates (or GetCertificate)", ErrInvalidConfig)
	}
	return tlsListener{acceptor: ln, config: s.tls}, nil
}

// dialTLS runs the client side of the handshake over conn, bounded by ctx. Without a
// ServerName it verifies the host of a "host:port" address, as [tls.Dial] does.
func dialTLS(ctx context.Context, conn net.Conn, s settings, address string) (net.Conn, error) {
	cfg := s.tls
	if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			host = address // a unix socket path: verification fails unless ServerName is set
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

// TLS returns the state of the conversation's TLS connection, such as the peer's
// verified certificates, and whether the conversation uses TLS at all. On a listener's
// conversation whose handshake has not run yet (no Send or Recv so far, and not served
// by [Server]), the state is that of an unfinished handshake.
func (c *Conversation) TLS() (tls.ConnectionState, bool) {
	tc, ok := c.conn.(*tls.Conn)
	if !ok {
		return tls.ConnectionState{}, false
	}
	return tc.ConnectionState(), true
}

// plaintextNotice is what a TLS server tells a peer that connected without TLS, in the
// conversation's framing, before closing.
const plaintextNotice = "sockmsg: this server speaks TLS only; connect with Config.TLS set"

// handshake runs the TLS handshake of a listener's conversation, if it has one, bounded
// by timeout (0: none). A peer that spoke plaintext is told so in plaintext before the
// conversation is closed. Conversations without TLS return nil at once.
func (c *Conversation) handshake(ctx context.Context, timeout time.Duration) error {
	tc, ok := c.conn.(*tls.Conn)
	if !ok {
		return nil
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	err := tc.HandshakeContext(ctx)
	if err == nil {
		return nil
	}
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) && rhe.Conn != nil {
		plain := c.settings
		plain.tls = nil
		_ = rhe.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		_ = newConversation(rhe.Conn, plain).SendString(plaintextNotice)
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return &Error{Op: "handshake", Err: err, Hint: tlsHint(err)}
}

// tlsHint says what to do about a failed TLS handshake, or "" if err is no TLS failure.
func tlsHint(err error) string {
	var (
		rhe     tls.RecordHeaderError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		remote  *net.OpError
	)
	switch {
	case errors.As(err, &rhe):
		return "the peer does not speak TLS; set Config.TLS on both sides, or on neither"
	case errors.As(err, &unknown):
		return "the peer's certificate is signed by an authority this side does not trust; add the CA to TLS.RootCAs (client) or TLS.ClientCAs (server)"
	case errors.As(err, &host):
		return "the server's certificate is not valid for this name; set TLS.ServerName to a name the certificate holds"
	case errors.As(err, &invalid):
		return "the peer's certificate is expired or not valid for this use"
	case errors.As(err, &remote) && remote.Op == "remote error":
		return "the peer refused the handshake; check that both sides share a TLS version, and that a client certificate is sent when the server asks for one"
	case errors.Is(err, context.DeadlineExceeded):
		return "the TLS handshake did not finish in time"
	}
	return ""
}
