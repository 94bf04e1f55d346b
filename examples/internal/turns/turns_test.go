package turns

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sockmsg/sockmsg"
)

// TestCloseKey: a typed close key is sent the way the tutorial spells it, so that
// Python's lower() on the other side understands it too.
func TestCloseKey(t *testing.T) {
	for typed, want := range map[string]string{
		"bye": "bye", " Bye \t": "bye", "EXİT": "exit", "exıt": "exit", "QUİT": "quit",
		"KAPAT": "kapat", "Q": "q", "close": "close",
	} {
		assert.True(t, sockmsg.IsCloseKey(typed), typed)
		assert.Equal(t, want, CloseKey(typed), "typed %q", typed)
	}
}
