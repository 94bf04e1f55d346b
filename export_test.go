package sockmsg

// InitialReadBuffer is the read buffer a stream conversation starts with.
const InitialReadBuffer = initialReadBuffer

// ReadBufferCap returns the capacity of c's read buffer: the memory it holds for Recv.
func ReadBufferCap(c *Conversation) int {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	return cap(c.rbuf)
}
