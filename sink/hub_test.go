package sink

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func numbered(i int) Event {
	e := NewEvent(TypeDetectionSummary, fmt.Sprintf("cam-%d", i), time.Unix(int64(i), 0))
	return e
}

func cameras(es []Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.CameraID)
	}
	return out
}

func TestHubRecent(t *testing.T) {
	tests := []struct {
		name      string
		size      int
		published int
		n         int
		want      []string
	}{
		{"empty", 3, 0, 5, nil},
		{"fewer than asked", 3, 2, 5, []string{"cam-1", "cam-0"}},
		{"ring wrapped", 3, 5, 10, []string{"cam-4", "cam-3", "cam-2"}},
		{"ring wrapped exactly", 3, 6, 3, []string{"cam-5", "cam-4", "cam-3"}},
		{"fewer than kept", 3, 5, 2, []string{"cam-4", "cam-3"}},
		{"zero", 3, 5, 0, nil},
		{"negative", 3, 5, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Hub{RecentSize: tt.size}
			for i := range tt.published {
				h.Publish(numbered(i))
			}
			if got := cameras(h.Recent(tt.n)); !slices.Equal(got, tt.want) {
				t.Errorf("Recent(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestHubSlowSubscriberLosesEvents(t *testing.T) {
	m, _ := NewMetrics(nil)
	h := &Hub{Metrics: m}
	fast, unsubFast := h.Subscribe(100)
	slow, unsubSlow := h.Subscribe(2) // never read until the end
	if got := testutil.ToFloat64(m.liveClients); got != 2 {
		t.Errorf("live subscribers = %v, want 2", got)
	}

	var got []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for e := range fast {
			got = append(got, e.CameraID)
		}
	})
	const n = 50
	for i := range n {
		h.Publish(numbered(i)) // must not block on the slow subscriber
	}
	unsubFast()
	unsubFast() // idempotent
	wg.Wait()

	if len(got) != n || got[0] != "cam-0" || got[n-1] != fmt.Sprintf("cam-%d", n-1) {
		t.Errorf("fast subscriber got %d events (%v...), want all %d in order", len(got), got[:min(3, len(got))], n)
	}
	unsubSlow()
	var slowGot []string
	for e := range slow { // closed by unsubscribe, buffered events remain
		slowGot = append(slowGot, e.CameraID)
	}
	if want := []string{"cam-0", "cam-1"}; !slices.Equal(slowGot, want) {
		t.Errorf("slow subscriber got %v, want %v", slowGot, want)
	}
	if got := testutil.ToFloat64(m.liveDropped); got != n-2 {
		t.Errorf("live dropped = %v, want %d", got, n-2)
	}
	if got := testutil.ToFloat64(m.liveClients); got != 0 {
		t.Errorf("live subscribers after unsubscribe = %v, want 0", got)
	}
	h.Publish(numbered(n)) // no subscribers left: must not panic on closed channels
}

func TestHubConcurrent(t *testing.T) {
	h := &Hub{RecentSize: 16}
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 200 {
				h.Publish(numbered(p*1000 + i))
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 20 {
				ch, unsub := h.Subscribe(4)
				select {
				case <-ch:
				default:
				}
				_ = h.Recent(8)
				unsub()
			}
		})
	}
	wg.Wait()
	if got := len(h.Recent(100)); got != 16 {
		t.Errorf("Recent kept %d events, want 16", got)
	}
}
