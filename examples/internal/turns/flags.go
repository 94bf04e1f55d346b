package turns

import (
	"flag"
	"net"
	"os"
	"strconv"

	"github.com/sockmsg/sockmsg"
)

// Flags are the command-line flags the tutorial's chat programs share, with the
// tutorial's defaults: this machine's host name, port 61000, and on streams its wire
// format (Raw framing, reads of 5120 bytes).
type Flags struct {
	Host    string
	Port    int
	Network string
	framing string // -framing, on stream networks only
	packet  bool
}

// Register defines -host, -port and -network on fs, and -framing if network, the
// default of -network, is a stream network ("tcp"); "udp" makes a datagram program.
func (f *Flags) Register(fs *flag.FlagSet, network string) {
	host, _ := os.Hostname() // socket.gethostname(); "" (this machine) if it fails
	f.packet = network == "udp"
	networks, file := "tcp, tcp4, tcp6 or unix", "unix"
	if f.packet {
		networks, file = "udp, udp4, udp6 or unixgram", "unixgram"
	}
	fs.StringVar(&f.Host, "host", host, "host name or IP address, by default this machine's name (socket.gethostname());\nwith -network "+file+", the socket file's path")
	fs.IntVar(&f.Port, "port", 61000, "port; 0 makes a server pick a free one")
	fs.StringVar(&f.Network, "network", network, networks)
	if !f.packet {
		fs.StringVar(&f.framing, "framing", "raw", "raw (the tutorial's: one read is one message), lines or length;\nboth sides must use the same")
	}
}

// Address returns the address the flags name: host:port, or for unix networks the path.
func (f *Flags) Address() string {
	if f.Network == "unix" || f.Network == "unixgram" {
		return f.Host
	}
	return net.JoinHostPort(f.Host, strconv.Itoa(f.Port))
}

// Framing returns the framing -framing names (Raw by default) on stream networks, and
// Datagram on datagram networks.
func (f *Flags) Framing() (sockmsg.Framing, error) {
	if f.packet {
		return sockmsg.Datagram, nil
	}
	return sockmsg.ParseFraming(f.framing)
}
