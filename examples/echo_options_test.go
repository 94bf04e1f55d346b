package examples_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sockmsg/sockmsg"
)

// TestEchoMaxConversations: with -max-conversations 1 a second client waits, connected,
// and is served as soon as the first one leaves.
func TestEchoMaxConversations(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	echo := start(ctx, t, "", "echo", "-addr", "127.0.0.1:0", "-max-conversations", "1")
	addr := echo.listening(ctx, t)

	first := dial(ctx, t, sockmsg.Lines, addr)
	require.NoError(t, first.SendString("birinci"))
	assert.Equal(t, "birinci", recv(ctx, t, first))

	second := dial(ctx, t, sockmsg.Lines, addr) // connects: it waits in the backlog
	require.NoError(t, second.SendString("ikinci"))
	echo.stderr.waitFor(ctx, t, lit(first.LocalAddr().String()+" connected"))
	assert.NotContains(t, echo.stderr.String(), second.LocalAddr().String()+" connected", "only one at a time")

	require.NoError(t, first.Goodbye(""))
	assert.Equal(t, "ikinci", recv(ctx, t, second), "served once the first has left")
	echo.stderr.waitFor(ctx, t, lit(second.LocalAddr().String()+" connected"))
}

// TestEchoIdleTimeout: a client silent for -idle-timeout is told goodbye; one that keeps
// talking is not.
func TestEchoIdleTimeout(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	echo := start(ctx, t, "", "echo", "-addr", "127.0.0.1:0", "-idle-timeout", "300ms")
	addr := echo.listening(ctx, t)

	silent := dial(ctx, t, sockmsg.Lines, addr)
	began := time.Now()
	_, err := silent.RecvContext(ctx)
	assert.ErrorIs(t, err, sockmsg.ErrCloseKey, "the server said goodbye")
	assert.GreaterOrEqual(t, time.Since(began), 300*time.Millisecond)
	echo.stderr.waitFor(ctx, t, regexp.MustCompile(regexp.QuoteMeta(silent.LocalAddr().String())+": .*idle"))
}

// TestEchoTLS: with -cert and -key the echo server speaks TLS.
func TestEchoTLS(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	certFile, keyFile, roots := selfSignedCert(t)
	echo := start(ctx, t, "", "echo", "-addr", "127.0.0.1:0", "-cert", certFile, "-key", keyFile)
	addr := echo.listening(ctx, t)

	cfg := &sockmsg.Config{TLS: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}}
	conv, err := cfg.Dial(ctx, "tcp", addr)
	require.NoError(t, err)
	defer conv.Close()
	require.NoError(t, conv.SendString(turkish1))
	assert.Equal(t, turkish1, recv(ctx, t, conv))
	state, ok := conv.TLS()
	assert.True(t, ok)
	assert.True(t, state.HandshakeComplete)
	require.NoError(t, conv.Goodbye(""))

	bad := start(ctx, t, "", "echo", "-addr", "127.0.0.1:0", "-cert", certFile)
	assert.Equal(t, 1, bad.wait(ctx, t), "-cert without -key")
	assert.Contains(t, bad.stderr.String(), "-cert and -key")
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key to PEM files, and
// returns them with a pool that trusts the certificate.
func selfSignedCert(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sockmsg examples test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}
