package sink

import "sync"

// DefaultRecentSize is how many events a Hub keeps for Recent by default:
// enough to fill a console page on connect.
const DefaultRecentSize = 500

// Hub is the live fan-out of events to subscribers (the API's SSE clients).
// Publish never blocks: a subscriber whose buffer is full misses the event,
// and the miss is counted. The zero Hub is ready to use; it is safe for
// concurrent use.
type Hub struct {
	// RecentSize is how many of the latest events Recent can return.
	// Defaults to DefaultRecentSize. Read once, on first use.
	RecentSize int
	// Metrics receives the hub's counters. Defaults to unregistered metrics.
	Metrics *Metrics

	once sync.Once
	mu   sync.Mutex
	subs map[*subscriber]struct{}
	ring []Event // circular; next is the slot of the next event
	next int
	full bool
}

type subscriber struct {
	ch chan Event
}

func (h *Hub) init() {
	h.once.Do(func() {
		if h.RecentSize <= 0 {
			h.RecentSize = DefaultRecentSize
		}
		if h.Metrics == nil {
			h.Metrics = discardMetrics()
		}
		h.subs = make(map[*subscriber]struct{})
		h.ring = make([]Event, h.RecentSize)
	})
}

// Subscribe returns a channel that receives every event published from now
// on, buffered for buf events (at least 1), and a function that ends the
// subscription and closes the channel. The function may be called more than
// once and from any goroutine.
func (h *Hub) Subscribe(buf int) (<-chan Event, func()) {
	h.init()
	if buf < 1 {
		buf = 1
	}
	s := &subscriber{ch: make(chan Event, buf)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	h.Metrics.liveClients.Inc()

	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			close(s.ch) // under mu: Publish never sends on a closed channel
			h.mu.Unlock()
			h.Metrics.liveClients.Dec()
		})
	}
}

// Publish records e among the recent events and offers it to every
// subscriber without waiting.
func (h *Hub) Publish(e Event) {
	h.init()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ring[h.next] = e
	h.next = (h.next + 1) % len(h.ring)
	if h.next == 0 {
		h.full = true
	}
	for s := range h.subs {
		select {
		case s.ch <- e:
		default:
			h.Metrics.liveDropped.Inc()
		}
	}
}

// Recent returns up to n of the latest published events, newest first.
func (h *Hub) Recent(n int) []Event {
	h.init()
	h.mu.Lock()
	defer h.mu.Unlock()
	have := h.next
	if h.full {
		have = len(h.ring)
	}
	n = min(n, have)
	if n <= 0 {
		return nil
	}
	out := make([]Event, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, h.ring[(h.next-i+len(h.ring))%len(h.ring)])
	}
	return out
}
