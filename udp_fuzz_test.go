package sockmsg

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
)

// FuzzDemultiplexer drives the UDP listener's routing with a script of datagrams from
// eight peers, Accepts, Recvs and Closes, and checks it against a model: every datagram
// is delivered whole to its own peer in order, reported as oversize, or counted as
// dropped, and never anything else.
//
// Script bytes: below 0xC0, a datagram from peer b%8 of size next%80; 0xC0-0xDF, one
// Accept; 0xE0-0xFF, read everything queued for accepted peer b%8, and close it if b&8.
func FuzzDemultiplexer(f *testing.F) {
	f.Add([]byte{0, 5, 1, 5, 2, 5, 0xC0, 0xE0, 0, 70}, uint8(2), uint8(2), uint8(60))
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 4, 0xC0, 0xE8, 0, 9, 0xC0, 0xE0}, uint8(1), uint8(2), uint8(8))
	f.Add([]byte{1, 0, 2, 0, 3, 0, 4, 0, 0xC1, 0xC2, 0xE1, 0xE2, 0xE3}, uint8(3), uint8(1), uint8(0))
	f.Fuzz(func(t *testing.T, script []byte, backlog, queue, limit uint8) {
		s := settings{network: "udp", framing: Datagram, limit: int(limit),
			udp: udpSettings{backlog: 1 + int(backlog%4), queue: 1 + int(queue%4)}}
		l := newPacketListener(nil, s)
		m := newDemuxModel(s)
		var accepted []*peer
		buf := make([]byte, s.limit+1)
		seq := byte(0)
		for i := 0; i < len(script); i++ {
			switch op := script[i]; {
			case op < 0xC0:
				size := 0
				if i+1 < len(script) {
					i++
					size = int(script[i] % 80)
				}
				seq++
				data := bytes.Repeat([]byte{seq}, size)
				l.route(keyOf(op%8), data)
				m.route(op%8, data)
			case op < 0xE0:
				select {
				case p := <-l.backlog:
					accepted = append(accepted, p)
					m.accept(t, p)
				default:
					m.acceptNone(t)
				}
			case len(accepted) > 0:
				p := accepted[int(op%8)%len(accepted)]
				m.readAll(t, p, buf)
				if op&8 != 0 && !m.byPeer[p].closed {
					if err := p.Close(); err != nil {
						t.Fatalf("closing an open peer: %v", err)
					}
					m.close(p)
				}
			}
		}
		if got := l.drops.Load(); got != m.listenerDrops {
			t.Fatalf("listener dropped %d, want %d", got, m.listenerDrops)
		}
		for _, p := range accepted {
			m.readAll(t, p, buf)
		}
	})
}

func keyOf(id byte) peerKey {
	return peerKey{ip: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 1000+uint16(id))}
}

// demuxModel is what the demultiplexer should have done.
type demuxModel struct {
	s             settings
	listenerDrops uint64
	live          map[byte]*modelPeer // peers the listener routes to
	backlog       []*modelPeer        // in the order Accept hands them out
	byPeer        map[*peer]*modelPeer
}

type modelPeer struct {
	id     byte
	queue  [][]byte // nil entries are oversize datagrams
	drops  uint64
	closed bool
}

func newDemuxModel(s settings) *demuxModel {
	return &demuxModel{s: s, live: map[byte]*modelPeer{}, byPeer: map[*peer]*modelPeer{}}
}

func (m *demuxModel) route(id byte, data []byte) {
	mp := m.live[id]
	if mp == nil {
		if len(m.backlog) == m.s.udp.backlog {
			m.listenerDrops++
			return
		}
		mp = &modelPeer{id: id}
		m.live[id] = mp
		m.backlog = append(m.backlog, mp)
	}
	switch {
	case len(mp.queue) == m.s.udp.queue:
		mp.drops++
	case len(data) > m.s.limit:
		mp.queue = append(mp.queue, nil)
	default:
		mp.queue = append(mp.queue, data)
	}
}

func (m *demuxModel) accept(t *testing.T, p *peer) {
	if len(m.backlog) == 0 {
		t.Fatal("Accept returned a peer the model has not made")
	}
	mp := m.backlog[0]
	m.backlog = m.backlog[1:]
	if p.key != keyOf(mp.id) {
		t.Fatalf("Accept returned %v, want peer %d", p.key, mp.id)
	}
	m.byPeer[p] = mp
}

func (m *demuxModel) acceptNone(t *testing.T) {
	if len(m.backlog) != 0 {
		t.Fatalf("Accept found nothing, but %d peers wait", len(m.backlog))
	}
}

func (m *demuxModel) close(p *peer) {
	mp := m.byPeer[p]
	mp.closed = true
	mp.queue = nil
	delete(m.live, mp.id)
}

// readAll reads what is queued for p and compares it with the model.
func (m *demuxModel) readAll(t *testing.T, p *peer, buf []byte) {
	mp := m.byPeer[p]
	if got := p.dropped(); got != mp.drops {
		t.Fatalf("peer %d dropped %d, want %d", mp.id, got, mp.drops)
	}
	if mp.closed {
		if _, err := p.Read(buf); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read on a closed peer: %v", err)
		}
		return
	}
	if len(p.queue) != len(mp.queue) {
		t.Fatalf("peer %d holds %d datagrams, want %d", mp.id, len(p.queue), len(mp.queue))
	}
	for _, want := range mp.queue {
		n, err := p.Read(buf)
		var se *MessageSizeError
		switch {
		case want == nil && !errors.As(err, &se):
			t.Fatalf("oversize datagram read as %d bytes, %v", n, err)
		case want != nil && (err != nil || !bytes.Equal(buf[:n], want)):
			t.Fatalf("read %q, %v; want %q", buf[:n], err, want)
		}
	}
	mp.queue = nil
}
