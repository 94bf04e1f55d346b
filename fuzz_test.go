package sockmsg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// checkSplit runs a split function over data and checks what every framing promises.
func checkSplit(t *testing.T, split splitFunc, data []byte, limit int, atEOF bool) (int, []byte, error) {
	adv, msg, need, err := split(data, limit, atEOF)
	switch {
	case err == errNeedMore:
		if adv != 0 || msg != nil {
			t.Fatalf("need more, yet advance %d msg %q", adv, msg)
		}
		if need > limit+lengthHeaderSize {
			t.Fatalf("asks to buffer %d bytes, over the limit %d", need, limit)
		}
	case err != nil:
		if adv != 0 {
			t.Fatalf("error %v with advance %d", err, adv)
		}
	default:
		if adv <= 0 || adv > len(data) {
			t.Fatalf("advance %d out of range for %d bytes", adv, len(data))
		}
		if len(msg) > limit {
			t.Fatalf("message of %d bytes over the limit %d", len(msg), limit)
		}
	}
	return adv, msg, err
}

func addFrames(f *testing.F) {
	f.Add([]byte("hello\nworld\r\n"), uint16(1024), uint8(3))
	f.Add([]byte("no newline at all"), uint16(4), uint8(1))
	f.Add([]byte("\r\n\r\n\n"), uint16(0), uint8(2))
	f.Add(binary.BigEndian.AppendUint32(nil, 0xFFFFFFFF), uint16(1024), uint8(1))
	f.Add(append(binary.BigEndian.AppendUint32(nil, 5), "hello"...), uint16(5), uint8(2))
	f.Add(append(binary.BigEndian.AppendUint32(nil, 0), 0, 0, 0), uint16(8), uint8(7))
	f.Add([]byte("EXİT\n"), uint16(16), uint8(1))
}

func FuzzSplitLine(f *testing.F) {
	addFrames(f)
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, _ uint8) {
		for _, atEOF := range []bool{false, true} {
			adv, msg, err := checkSplit(t, splitLine, data, int(limit), atEOF)
			if err != nil {
				continue
			}
			if bytes.IndexByte(msg, '\n') >= 0 {
				t.Fatalf("line %q holds a newline", msg)
			}
			if !bytes.HasPrefix(data[:adv], msg) {
				t.Fatalf("line %q is not the start of %q", msg, data[:adv])
			}
		}
	})
}

func FuzzSplitLength(f *testing.F) {
	addFrames(f)
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, _ uint8) {
		for _, atEOF := range []bool{false, true} {
			adv, msg, err := checkSplit(t, splitLength, data, int(limit), atEOF)
			if err != nil {
				continue
			}
			frame := append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)
			if !bytes.Equal(frame, data[:adv]) {
				t.Fatalf("frame %q does not re-encode to %q", data[:adv], frame)
			}
		}
	})
}

func FuzzSplitRaw(f *testing.F) {
	addFrames(f)
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, _ uint8) {
		if limit == 0 {
			return // Config never allows a zero limit
		}
		adv, msg, err := checkSplit(t, splitRaw, data, int(limit), false)
		if err == nil && !bytes.Equal(msg, data[:adv]) {
			t.Fatalf("raw message %q is not the bytes read %q", msg, data[:adv])
		}
	})
}

// chunkConn is a net.Conn whose reads return data in pieces of the given sizes.
type chunkConn struct {
	net.Conn // nil: only Read and Close are used
	data     []byte
	sizes    []byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.sizes) > 0 {
		n = max(1, int(c.sizes[0]))
		c.sizes = c.sizes[1:]
	}
	n = copy(p, c.data[:min(n, len(c.data))])
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkConn) Close() error                     { return nil }
func (c *chunkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *chunkConn) SetWriteDeadline(time.Time) error { return nil }

// decodeAll reads every message a conversation decodes from data, read in pieces.
func decodeAll(framing Framing, limit int, data, sizes []byte) (msgs []string, err error) {
	c := newConversation(&chunkConn{data: data, sizes: sizes}, settings{network: "tcp", framing: framing, limit: limit})
	for range len(data) + 2 {
		m, err := c.Recv()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, string(m))
	}
	panic("a conversation delivered more messages than there are bytes")
}

// FuzzStreamDecoder checks that how bytes are cut by the network never changes the
// messages decoded from them: the decoder resumes correctly after every partial read.
func FuzzStreamDecoder(f *testing.F) {
	addFrames(f)
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, chunk uint8) {
		if limit == 0 {
			return
		}
		for _, framing := range []Framing{Lines, LengthPrefixed} {
			whole, werr := decodeAll(framing, int(limit), data, nil)
			sizes := bytes.Repeat([]byte{chunk}, len(data)+1)
			pieces, perr := decodeAll(framing, int(limit), data, sizes)
			if strings.Join(whole, "\x00|") != strings.Join(pieces, "\x00|") {
				t.Fatalf("%s: whole %q, in pieces of %d %q", framing, whole, chunk, pieces)
			}
			if errors.Is(werr, ErrMessageTooLarge) != errors.Is(perr, ErrMessageTooLarge) ||
				errors.Is(werr, io.EOF) != errors.Is(perr, io.EOF) {
				t.Fatalf("%s: whole ends with %v, in pieces with %v", framing, werr, perr)
			}
		}
	})
}

// FuzzCloseKey checks the close-key matcher against its promises.
func FuzzCloseKey(f *testing.F) {
	for _, s := range []string{"bye", "EXİT", "exıt", " Q\n", "kapat!", "\xff", "byebye", "K", "\u212a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, ok := defaultKeySet.match(s)
		if got := IsCloseKey(s); got != ok {
			t.Fatalf("IsCloseKey(%q) = %v, match says %v", s, got, ok)
		}
		if _, ok2 := defaultKeySet.match(" \t" + s + "\r\n"); ok2 != ok {
			t.Fatalf("surrounding white space changed the answer for %q", s)
		}
		if !ok {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 %q matched %q", s, key)
		}
		for _, variant := range []string{strings.ToUpper(s), strings.ToLower(s), strings.ToUpperSpecial(unicode.TurkishCase, s), strings.ToLowerSpecial(unicode.TurkishCase, s)} {
			if !IsCloseKey(variant) {
				t.Fatalf("%q is a close key but its case variant %q is not", s, variant)
			}
		}
	})
}

func TestOversizeHeaderDoesNotAllocate(t *testing.T) {
	header := binary.BigEndian.AppendUint32(nil, 0xFFFFFFFF)
	c := newConversation(&chunkConn{data: header}, settings{network: "tcp", framing: LengthPrefixed, limit: DefaultMaxMessageSize})
	_, err := c.Recv()
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("want ErrMessageTooLarge, got %v", err)
	}
	if len(c.rbuf) > initialReadBuffer {
		t.Fatalf("read buffer grew to %d bytes for a refused frame", len(c.rbuf))
	}
}
