package sockmsg

import (
	"unicode"
	"unicode/utf8"
)

// defaultCloseKeys are the seed tutorial's closeKeys, in its order.
var defaultCloseKeys = [...]string{"bye", "close", "quit", "q", "kapat", "exit"}

// DefaultCloseKeys returns the close keys a conversation uses unless its [Config] says
// otherwise: "bye", "close", "quit", "q", "kapat" and "exit". The slice is a fresh copy.
func DefaultCloseKeys() []string {
	return append([]string(nil), defaultCloseKeys[:]...)
}

// IsCloseKey reports whether text is one of the [DefaultCloseKeys]. The whole text must
// be the key: surrounding white space is ignored and case does not matter, Turkish
// letters included, so "EXİT", "exıt", "QUİT", "KAPAT" and "Bye \n" are close keys and
// "bye now" is not.
func IsCloseKey(text string) bool {
	_, ok := defaultKeySet.match(text)
	return ok
}

// CloseKey returns the default close key that text is, as [IsCloseKey] matches it, in
// the key's own spelling: CloseKey(" EXİT ") is "exit", true. It returns "", false for
// any other text. The spelling matters to peers that compare plainly, such as the
// tutorial's server.py, whose lower() turns "EXİT" into "exi̇t".
func CloseKey(text string) (key string, ok bool) {
	return defaultKeySet.match(text)
}

// defaultKeySet matches the default keys.
var defaultKeySet = newKeySet(defaultCloseKeys[:])

// keySet matches messages against a set of close keys without allocating.
type keySet struct {
	keys   []string // as configured
	folded []string // keys[i] folded
	max    int      // longest folded key in bytes
}

func newKeySet(keys []string) *keySet {
	ks := &keySet{}
	for _, k := range keys {
		f, ok := fold(nil, trimSpace(k))
		if !ok || len(f) == 0 {
			continue
		}
		ks.keys = append(ks.keys, k)
		ks.folded = append(ks.folded, string(f))
		ks.max = max(ks.max, len(f))
	}
	return ks
}

// first returns the key Goodbye sends by default, or "" for an empty set.
func (ks *keySet) first() string {
	if ks == nil || len(ks.keys) == 0 {
		return ""
	}
	return ks.keys[0]
}

// match returns the configured key that msg is, if any. msg may be a string or []byte.
func match[T string | []byte](ks *keySet, msg T) (string, bool) {
	if ks == nil || len(ks.keys) == 0 {
		return "", false
	}
	// Most messages are no key: a long one that starts and ends with a visible ASCII
	// byte has nothing to trim and is too long, which two comparisons tell.
	if n := len(msg); n > 3*ks.max && isASCIIVisible(msg[0]) && isASCIIVisible(msg[n-1]) {
		return "", false
	}
	t := trimSpace(msg)
	// A folded rune is never more than three times as long as its source in UTF-8
	// bytes, nor less than a third: a text far longer than the longest key is no key.
	if len(t) > 3*ks.max {
		return "", false
	}
	var buf [64]byte
	f, ok := fold(buf[:0], t)
	if !ok {
		return "", false
	}
	for i, k := range ks.folded {
		if k == string(f) {
			return ks.keys[i], true
		}
	}
	return "", false
}

func (ks *keySet) match(text string) (string, bool) { return match(ks, text) }

// fold appends the case-folded form of s to dst, mapping every Turkish i (i, I, İ, ı)
// to 'i' and everything else through unicode.ToLower. It reports false for invalid UTF-8.
func fold[T string | []byte](dst []byte, s T) ([]byte, bool) {
	for i := 0; i < len(s); {
		var r rune
		var size int
		if c := s[i]; c < utf8.RuneSelf {
			r, size = rune(c), 1
		} else {
			r, size = utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
			if r == utf8.RuneError && size <= 1 {
				return dst, false
			}
		}
		i += size
		switch r {
		case 'I', 'İ', 'ı':
			r = 'i'
		default:
			r = unicode.ToLower(r)
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, true
}

// trimSpace trims Unicode white space from both ends without allocating.
func trimSpace[T string | []byte](s T) T {
	start, end := 0, len(s)
	for start < end {
		r, size := decodeRune(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += size
	}
	for end > start {
		r, size := decodeLastRune(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= size
	}
	return s[start:end]
}

func decodeRune[T string | []byte](s T) (rune, int) {
	if c := s[0]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(string(s[:min(len(s), utf8.UTFMax)]))
}

func decodeLastRune[T string | []byte](s T) (rune, int) {
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeLastRuneInString(string(s[max(0, len(s)-utf8.UTFMax):]))
}

// isASCIIVisible reports whether b is a printable ASCII byte other than space.
func isASCIIVisible(b byte) bool { return '!' <= b && b <= '~' }
