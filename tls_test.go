package sockmsg_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/sockmsg/sockmsg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPKI is a certificate authority made at run time, with a server and a client
// certificate it signed.
type testPKI struct {
	pool   *x509.CertPool
	server tls.Certificate // for "localhost" and 127.0.0.1
	client tls.Certificate // CommonName "client-1"
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sockmsg test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	issue := func(serial int64, name string, usage x509.ExtKeyUsage) tls.Certificate {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		require.NoError(t, err)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	p := &testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	p.server = issue(2, "localhost", x509.ExtKeyUsageServerAuth)
	p.client = issue(3, "client-1", x509.ExtKeyUsageClientAuth)
	return p
}

// serverConfig is a listener's Config; with mutual set, it requires a client certificate.
func (p *testPKI) serverConfig(mutual bool) *sockmsg.Config {
	tc := &tls.Config{Certificates: []tls.Certificate{p.server}}
	if mutual {
		tc.ClientAuth = tls.RequireAndVerifyClientCert
		tc.ClientCAs = p.pool
	}
	return &sockmsg.Config{TLS: tc}
}

// clientConfig is a dialler's Config; with cert set, it presents the client certificate.
func (p *testPKI) clientConfig(cert bool) *sockmsg.Config {
	tc := &tls.Config{RootCAs: p.pool, ServerName: "localhost"}
	if cert {
		tc.Certificates = []tls.Certificate{p.client}
	}
	return &sockmsg.Config{TLS: tc}
}

func TestTLSServe(t *testing.T) {
	pki := newTestPKI(t)
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		peers := make(chan string, 1)
		srv := &sockmsg.Server{Handler: func(ctx context.Context, c *sockmsg.Conversation) error {
			state, ok := c.TLS()
			if !ok || !state.HandshakeComplete || len(state.PeerCertificates) == 0 {
				peers <- "no verified peer"
			} else {
				peers <- state.PeerCertificates[0].Subject.CommonName
			}
			return echo(ctx, c)
		}}
		s := serve(t, ctx, tr, pki.serverConfig(true), srv)
		client := s.dial(t, ctx, pki.clientConfig(true))
		state, ok := client.TLS()
		require.True(t, ok)
		assert.GreaterOrEqual(t, state.Version, uint16(tls.VersionTLS12))
		roundTrip(t, client, "şifreli merhaba")
		assert.Equal(t, "client-1", <-peers, "mutual TLS: the handler sees the client's certificate")
		require.NoError(t, client.Close())
		require.NoError(t, s.stop())
		assert.Zero(t, srv.Stats().HandshakeErrors)
	})
}

func TestTLSClientWithoutCertificateIsRefused(t *testing.T) {
	pki := newTestPKI(t)
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		srv := &sockmsg.Server{Handler: echo}
		s := serve(t, ctx, tr, pki.serverConfig(true), srv)
		// With TLS 1.3 the client learns of the refusal at its first read, not in Dial.
		client, err := pki.clientConfig(false).Dial(ctx, tr.network, s.ln.Addr().String())
		if err == nil {
			defer client.Close()
			_ = client.SendString("let me in")
			_, err = client.Recv()
		}
		assert.Error(t, err)
		serverErr := <-s.errs.ch
		var se *sockmsg.Error
		require.ErrorAs(t, serverErr, &se)
		assert.Equal(t, "handshake", se.Op)
		assert.Equal(t, uint64(1), srv.Stats().HandshakeErrors)

		roundTrip(t, s.dial(t, ctx, pki.clientConfig(true)), "a client with a certificate is served")
	})
}

func TestTLSPlaintextClientIsToldAndListenerGoesOn(t *testing.T) {
	pki := newTestPKI(t)
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		srv := &sockmsg.Server{Handler: echo}
		s := serve(t, ctx, tr, pki.serverConfig(false), srv)
		plain := s.dial(t, ctx, nil)
		require.NoError(t, plain.SendString("hello?"))
		notice, err := plain.RecvString()
		require.NoError(t, err)
		assert.Contains(t, notice, "speaks TLS only")
		_, err = plain.Recv()
		assert.Error(t, err, "then the conversation ends")

		serverErr := <-s.errs.ch
		assert.Contains(t, serverErr.Error(), "does not speak TLS")
		roundTrip(t, s.dial(t, ctx, pki.clientConfig(false)), "TLS clients are still served")
	})
}

func TestTLSClientToPlaintextServer(t *testing.T) {
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		s := serve(t, ctx, tr, nil, &sockmsg.Server{Handler: func(ctx context.Context, c *sockmsg.Conversation) error {
			if err := c.SendString("hello, plaintext here"); err != nil {
				return err
			}
			_, err := c.Recv() // until the client leaves
			return err
		}})
		pki := newTestPKI(t)
		_, err := pki.clientConfig(false).Dial(ctx, tr.network, s.ln.Addr().String())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "does not speak TLS")
		var se *sockmsg.Error
		assert.ErrorAs(t, err, &se)
	})
}

func TestTLSSilentClientDoesNotBlockTheListener(t *testing.T) {
	pki := newTestPKI(t)
	eachStream(t, func(t *testing.T, ctx context.Context, tr transport) {
		srv := &sockmsg.Server{Handler: echo, HandshakeTimeout: 200 * time.Millisecond}
		s := serve(t, ctx, tr, pki.serverConfig(false), srv)
		var d net.Dialer
		silent, err := d.DialContext(ctx, tr.network, s.ln.Addr().String())
		require.NoError(t, err)
		defer silent.Close()

		roundTrip(t, s.dial(t, ctx, pki.clientConfig(false)), "served while another peer's handshake hangs")
		err = <-s.errs.ch
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the silent peer's handshake timed out")
		assert.Equal(t, uint64(1), srv.Stats().HandshakeErrors)
	})
}

func TestTLSConfig(t *testing.T) {
	ctx := testTimeout(t, 10*time.Second)
	pki := newTestPKI(t)
	caller := &tls.Config{Certificates: []tls.Certificate{pki.server}}
	ln := listen(t, ctx, streamTransports[0], &sockmsg.Config{TLS: caller})
	assert.Zero(t, caller.MinVersion, "the caller's tls.Config is not changed")

	// An old client cannot get in: TLS 1.2 is the minimum.
	old := &tls.Config{RootCAs: pki.pool, MaxVersion: tls.VersionTLS11}
	_, err := (&sockmsg.Config{TLS: old}).Dial(ctx, "tcp", ln.Addr().String())
	assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig)

	_, err = (&sockmsg.Config{TLS: &tls.Config{}}).Listen(ctx, "tcp", "127.0.0.1:0")
	assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig, "a TLS listener needs a certificate")

	_, err = (&sockmsg.Config{TLS: caller}).Listen(ctx, "udp", "127.0.0.1:0")
	assert.ErrorIs(t, err, sockmsg.ErrInvalidConfig, "no TLS over datagrams")

	// The listener's server name check: a client trusting the CA but dialling a name
	// the certificate does not hold is refused with a hint.
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		c, err := ln.AcceptContext(ctx)
		if err == nil {
			_, _ = c.Recv() // runs the server side of the handshake
			_ = c.Close()
		}
	}()
	_, err = (&sockmsg.Config{TLS: &tls.Config{RootCAs: pki.pool, ServerName: "example.org"}}).Dial(ctx, "tcp", ln.Addr().String())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ServerName")
	<-accepted
}
