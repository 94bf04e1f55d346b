package sockmsg

import (
	"fmt"
	"net"
)

// batchChunk is how many framed bytes SendBatch gathers before it writes them.
const batchChunk = 64 << 10

// SendBatch sends msgs, in order, as separate messages, with as few system calls as it
// can: on streams the frames are gathered into 64 KiB writes, so a thousand small
// messages cost a handful of writes instead of a thousand. Datagram and Raw
// conversations write one message at a time (Raw messages written together would arrive
// glued into one).
//
// Every message is checked first: if any cannot be sent, SendBatch returns that error
// and sends nothing. Otherwise it returns how many messages went out whole; on a socket
// error that can be fewer than len(msgs), and on a stream the conversation is then
// broken, as with a Send cut off half way. SendBatch keeps none of msgs.
func (c *Conversation) SendBatch(msgs [][]byte) (sent int, err error) {
	for i, m := range msgs {
		if err := checkSend(c.framing, m, c.limit); err != nil {
			return 0, fmt.Errorf("message %d of the batch: %w", i, err)
		}
	}
	for start := 0; start < len(msgs); {
		c.sendMu.Lock()
		n, err := c.sendChunk(msgs[start:])
		c.sendMu.Unlock()
		sent += n
		if err != nil {
			return sent, err
		}
		start += n
	}
	return sent, nil
}

// sendChunk sends the first messages of msgs in one write and reports how many went out
// whole. sendMu is held.
func (c *Conversation) sendChunk(msgs [][]byte) (int, error) {
	if c.closed.Load() {
		return 0, wrapErr("send", net.ErrClosed)
	}
	if c.sendErr != nil {
		return 0, c.sendErr
	}
	if c.framing == Raw || c.framing == Datagram {
		n, total, err := c.write(msgs[0])
		if err != nil {
			return 0, c.sendFailed(n, total, err)
		}
		c.counted(msgs[:1])
		return 1, nil
	}
	// Gather whole frames up to the chunk size; a message larger than the chunk goes
	// alone, as Send would send it.
	c.wbuf = c.wbuf[:0]
	k := 0
	for k < len(msgs) && (k == 0 || len(c.wbuf)+frameSize(c.framing, msgs[k]) <= batchChunk) {
		if k == 0 && frameSize(c.framing, msgs[0]) > batchChunk {
			n, total, err := c.write(msgs[0])
			if err != nil {
				return 0, c.sendFailed(n, total, err)
			}
			c.counted(msgs[:1])
			return 1, nil
		}
		c.wbuf = appendFrame(c.wbuf, c.framing, msgs[k])
		k++
	}
	n, err := c.conn.Write(c.wbuf)
	if err != nil {
		// Count the frames that did go out whole.
		whole := 0
		for off := 0; whole < k && off+frameSize(c.framing, msgs[whole]) <= n; whole++ {
			off += frameSize(c.framing, msgs[whole])
		}
		c.counted(msgs[:whole])
		return whole, c.sendFailed(n, len(c.wbuf), err)
	}
	c.counted(msgs[:k])
	return k, nil
}

// counted adds msgs to the conversation's sent counters.
func (c *Conversation) counted(msgs [][]byte) {
	var bytes uint64
	for _, m := range msgs {
		bytes += uint64(len(m))
	}
	c.counters.messagesSent.Add(uint64(len(msgs)))
	c.counters.bytesSent.Add(bytes)
}
