// Package serving is what examples/echo and examples/chat share: their flags, and until
// the library has its own serving helper, the accept loop with a goroutine per
// conversation and a graceful shutdown when the context ends.
//
// Serve is a stand-in for that helper.
package serving

import (
	"context"
	"sync"
	"time"

	"github.com/sockmsg/sockmsg"
)

// goodbyeTimeout bounds the sending of the close key at shutdown.
const goodbyeTimeout = time.Second

// Serve accepts conversations on ln and runs handle for each in its own goroutine, until
// ctx ends. Then it stops accepting, says goodbye to every conversation still open (the
// default close key, then Close, which also unblocks the handler's Recv), waits for the
// handlers to return, and returns nil. It returns an Accept error other than ctx's at
// once, after the same shutdown. handle need not close its conversation.
func Serve(ctx context.Context, ln *sockmsg.Listener, handle func(*sockmsg.Conversation)) error {
	var (
		mu   sync.Mutex
		live = make(map[*sockmsg.Conversation]struct{})
		wg   sync.WaitGroup
	)
	var err error
	for {
		var conv *sockmsg.Conversation
		conv, err = ln.AcceptContext(ctx)
		if err != nil {
			break
		}
		mu.Lock()
		live[conv] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(live, conv)
				mu.Unlock()
				conv.Close()
			}()
			handle(conv)
		})
	}
	if ctx.Err() != nil {
		err = nil
	}
	ln.Close()
	mu.Lock()
	open := make([]*sockmsg.Conversation, 0, len(live))
	for conv := range live {
		open = append(open, conv)
	}
	mu.Unlock()
	for _, conv := range open {
		// A peer that reads nothing could block the close key's Send for ever.
		conv.SetWriteDeadline(time.Now().Add(goodbyeTimeout))
		conv.Goodbye("")
	}
	wg.Wait()
	return err
}
