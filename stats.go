package sockmsg

import "sync/atomic"

// ConversationStats counts what one conversation has carried. Byte counts are of message
// payloads, without framing.
type ConversationStats struct {
	MessagesSent     uint64
	BytesSent        uint64
	MessagesReceived uint64
	BytesReceived    uint64
	// Dropped counts messages meant for this conversation that were thrown away: UDP
	// datagrams that arrived while its queue was full on the listener side, and, with
	// [Config.ConnectedPeers] on Linux, those the system dropped on the conversation's own
	// socket because its receive buffer was full (as of the last datagram read). Streams
	// never drop; a dialled UDP conversation cannot see what its kernel drops, and counts 0.
	Dropped uint64
}

// ListenerStats counts what a listener has done.
type ListenerStats struct {
	Accepted uint64 // conversations handed out by Accept
	Open     int64  // accepted conversations not yet closed
	// Dropped counts datagrams thrown away before any conversation got them: from new
	// peers while the accept backlog was full, and unixgram datagrams from unbound
	// sockets, which cannot be answered. Streams never drop.
	Dropped uint64
	// SystemDropped counts the datagrams the operating system dropped on the listening
	// socket before the listener could read them, because its receive buffer was full
	// (Linux, udp networks; as of the last datagram read; 0 elsewhere).
	SystemDropped uint64
}

// convCounters are a conversation's live counters.
type convCounters struct {
	messagesSent, bytesSent         atomic.Uint64
	messagesReceived, bytesReceived atomic.Uint64
}

// listenerCounters are a listener's live counters.
type listenerCounters struct {
	accepted atomic.Uint64
	open     atomic.Int64
}

// Stats returns the conversation's counters so far. It is safe to call at any time.
func (c *Conversation) Stats() ConversationStats {
	return ConversationStats{
		MessagesSent:     c.counters.messagesSent.Load(),
		BytesSent:        c.counters.bytesSent.Load(),
		MessagesReceived: c.counters.messagesReceived.Load(),
		BytesReceived:    c.counters.bytesReceived.Load(),
		Dropped:          droppedBy(c.conn),
	}
}

// Stats returns the listener's counters so far. It is safe to call at any time.
func (l *Listener) Stats() ListenerStats {
	return ListenerStats{
		Accepted:      l.counters.accepted.Load(),
		Open:          l.counters.open.Load(),
		Dropped:       droppedBy(l.ln),
		SystemDropped: systemDroppedBy(l.ln),
	}
}
