package sockmsg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// Framing says how a conversation cuts its byte stream into messages. TCP and unix
// stream sockets carry bytes, not messages: two Sends may arrive as one read and one Send
// as two, so both sides must agree on where a message ends.
type Framing int

const (
	// DefaultFraming picks Lines on stream networks and Datagram on packet networks.
	DefaultFraming Framing = iota

	// Lines ends every message with "\n". Recv strips the "\n" or "\r\n". A last line
	// without one, followed by the end of the stream, is not a message but an error
	// matching [io.ErrUnexpectedEOF]: it may have been cut off. It is what a person types
	// into nc or telnet. Send refuses a message holding a '\n' or ending in
	// '\r' ([ErrInvalidMessage]), because the peer could not get it back intact.
	Lines

	// LengthPrefixed sends a 4-byte big-endian unsigned length, then that many bytes. Any
	// bytes may be sent, binary data and empty messages included.
	LengthPrefixed

	// Raw sends a message's bytes as they are and makes every read one message, as the
	// seed's conn.recv(1024*5) does. Use it only to talk to programs that do not frame
	// their messages (such as the seed's server.py and client.py), in strict turns:
	// messages sent close together may arrive glued into one, and a large one may arrive
	// cut in pieces. A read is at most MaxMessageSize bytes. Send refuses an empty message.
	Raw

	// Datagram makes one datagram one message, with nothing added. It is the only framing
	// of the packet networks (udp, udp4, udp6, unixgram) and is refused on streams.
	Datagram
)

var framingNames = [...]string{DefaultFraming: "default", Lines: "lines", LengthPrefixed: "length", Raw: "raw", Datagram: "datagram"}

// String returns the framing's name as [ParseFraming] accepts it.
func (f Framing) String() string {
	if f >= 0 && int(f) < len(framingNames) {
		return framingNames[f]
	}
	return fmt.Sprintf("Framing(%d)", int(f))
}

// ParseFraming returns the framing named s: "lines", "length", "raw", "datagram" or
// "default". It suits a command-line flag.
func ParseFraming(s string) (Framing, error) {
	for f, name := range framingNames {
		if s == name {
			return Framing(f), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown framing %q (use lines, length, raw or datagram)", ErrInvalidConfig, s)
}

// lengthHeaderSize is the size of a LengthPrefixed frame's header.
const lengthHeaderSize = 4

// errNeedMore is returned by split functions that need more bytes.
var errNeedMore = io.ErrShortBuffer

// splitFunc finds the first message in data. It returns the number of bytes the message
// took in data and the message itself (a subslice of data). With errNeedMore and a
// positive need it asks for at least need bytes in total before it is called again.
// atEOF tells that no more bytes will come.
type splitFunc func(data []byte, limit int, atEOF bool) (advance int, msg []byte, need int, err error)

// splitLine cuts a "\n"-terminated line, dropping the "\n" or "\r\n".
func splitLine(data []byte, limit int, atEOF bool) (int, []byte, int, error) {
	// A line may carry limit bytes plus "\r"; look no further than that for its end.
	window := data[:min(len(data), limit+2)]
	if i := bytes.IndexByte(window, '\n'); i >= 0 {
		line := data[:i]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) > limit {
			return 0, nil, 0, &MessageSizeError{Op: "recv", Size: int64(len(line)), Max: limit}
		}
		return i + 1, line, 0, nil
	}
	if len(data) > limit+1 {
		return 0, nil, 0, &MessageSizeError{Op: "recv", Size: -1, Max: limit}
	}
	if atEOF && len(data) > 0 {
		// A line the peer never ended may be a message cut off by a crash or a failed
		// write: deliver nothing rather than half a message.
		return 0, nil, 0, io.ErrUnexpectedEOF
	}
	return 0, nil, 0, errNeedMore
}

// splitLength cuts a frame of a 4-byte big-endian length and its payload.
func splitLength(data []byte, limit int, atEOF bool) (int, []byte, int, error) {
	if len(data) < lengthHeaderSize {
		if atEOF && len(data) > 0 {
			return 0, nil, 0, io.ErrUnexpectedEOF
		}
		return 0, nil, lengthHeaderSize, errNeedMore
	}
	n := binary.BigEndian.Uint32(data)
	if uint64(n) > uint64(limit) {
		return 0, nil, 0, &MessageSizeError{Op: "recv", Size: int64(n), Max: limit}
	}
	end := lengthHeaderSize + int(n)
	if len(data) < end {
		if atEOF {
			return 0, nil, 0, io.ErrUnexpectedEOF
		}
		return 0, nil, end, errNeedMore
	}
	return end, data[lengthHeaderSize:end], 0, nil
}

// splitRaw makes everything read so far one message, up to limit bytes.
func splitRaw(data []byte, limit int, atEOF bool) (int, []byte, int, error) {
	if len(data) == 0 {
		return 0, nil, 0, errNeedMore
	}
	n := min(len(data), limit)
	return n, data[:n], 0, nil
}

// checkSend reports why msg cannot be sent with framing f and the given limit, or nil.
func checkSend(f Framing, msg []byte, limit int) error {
	if len(msg) > limit {
		return &MessageSizeError{Op: "send", Size: int64(len(msg)), Max: limit}
	}
	switch f {
	case Lines:
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			return fmt.Errorf("%w: a Lines message cannot hold a newline (found at byte %d); send each line as its own message or use LengthPrefixed framing", ErrInvalidMessage, i)
		}
		if n := len(msg); n > 0 && msg[n-1] == '\r' {
			return fmt.Errorf("%w: a Lines message cannot end in '\\r' (the peer would strip it); use LengthPrefixed framing for such data", ErrInvalidMessage)
		}
	case Raw:
		if len(msg) == 0 {
			return fmt.Errorf("%w: Raw framing cannot send an empty message (the peer would read nothing); use Lines or LengthPrefixed framing", ErrInvalidMessage)
		}
	}
	return nil
}

// frameSize is the size of msg on the wire.
func frameSize(f Framing, msg []byte) int {
	switch f {
	case Lines:
		return len(msg) + 1
	case LengthPrefixed:
		return lengthHeaderSize + len(msg)
	}
	return len(msg)
}

// appendFrame appends msg, framed, to dst.
func appendFrame(dst []byte, f Framing, msg []byte) []byte {
	switch f {
	case Lines:
		return append(append(dst, msg...), '\n')
	case LengthPrefixed:
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	}
	return append(dst, msg...)
}

func putLength(b []byte, n int) {
	binary.BigEndian.PutUint32(b, uint32(n))
}
