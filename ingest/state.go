package ingest

import (
	"sync"
	"time"
)

// State is where a camera connection stands.
type State int

// The states of a Source. A Source starts in StateConnecting.
const (
	// StateConnecting: dialling, negotiating, or playing while waiting for the first RTP packet.
	StateConnecting State = iota
	// StateOnline: RTP is flowing.
	StateOnline
	// StateDegraded: RTP is flowing, but the frame rate or the packet loss
	// has been bad for degradedAfter (see Status.Degraded for the rule).
	StateDegraded
	// StateOffline: the camera is unreachable, went silent or dropped the
	// connection; the Source retries with exponential backoff.
	StateOffline
	// StateError: the camera answers but cannot be used as configured (wrong
	// credentials, unknown path, unsupported codec); the Source retries
	// slowly, at the longest backoff.
	StateError
)

// states lists every State, for metrics.
var states = [...]State{StateConnecting, StateOnline, StateDegraded, StateOffline, StateError}

// String returns the lower-case name of the state.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateOnline:
		return "online"
	case StateDegraded:
		return "degraded"
	case StateOffline:
		return "offline"
	case StateError:
		return "error"
	}
	return "unknown"
}

// up reports whether the camera delivers video in state s.
func (s State) up() bool {
	return s == StateOnline || s == StateDegraded
}

// Status is a snapshot of a Source's health.
type Status struct {
	State State
	// LastError is the last connection error, without the camera URL or
	// credentials; empty when the last connection ended cleanly.
	LastError string
	// Degraded says why the state is StateDegraded, with the numbers; empty
	// in the other states. A connection is degraded when, for degradedAfter
	// in a row, its frame rate is under degradedFPSRatio of its nominal rate
	// (the highest FPS measured over a full fpsWindow since it went online),
	// or more than degradedLoss of its RTP packets were lost over the last
	// lossWindow; it is online again after as long without either.
	Degraded string
	// Transport is the transport of the current or last connection, "tcp"
	// or "udp"; empty before the first connection played.
	Transport string
	// LastFrame is the arrival time of the last access unit; zero before the first.
	LastFrame time.Time
	// Frames counts the access units delivered since Run started.
	Frames uint64
	// Reconnects counts connection attempts after the first.
	Reconnects uint64
	// FPS is the access unit rate over the last fpsWindow.
	FPS float64
	// Bitrate is the video bit rate, NAL unit bytes × 8 per second, over the
	// last fpsWindow.
	Bitrate float64
	// PacketLoss is the fraction of RTP packets lost over the last lossWindow.
	PacketLoss float64
	// Uptime is the fraction of the time since Run started that the camera
	// was online or degraded; 0 before Run.
	Uptime float64
	// UptimeToday is the same fraction for the current UTC day: the time up
	// since 00:00 UTC (or since Run started, if later).
	UptimeToday float64
	// NextAttempt is when the next connection attempt is due, while the state
	// is offline or error; zero otherwise.
	NextAttempt time.Time
}

// Health limits.
const (
	// fpsWindow is how far back Status.FPS and Bitrate look: long enough to
	// smooth the jitter of a few seconds of network, short enough to show a
	// stall quickly.
	fpsWindow = 5 * time.Second
	// lossWindow is how far back Status.PacketLoss looks.
	lossWindow = 5 * time.Second
	// degradedFPSRatio: a frame rate under this share of the nominal rate
	// means pictures are missing (encoder overload, a network that cannot
	// carry the stream), which both the evidence and the analysis suffer from.
	degradedFPSRatio = 0.5
	// degradedLoss: above 2% lost packets most GOPs have a damaged picture.
	degradedLoss = 0.02
	// minLossPackets is how many packets lossWindow must hold before its
	// loss ratio counts: a few packets give a meaningless ratio.
	minLossPackets = 50
	// degradedAfter is how long a condition must last before the state
	// changes either way, so that one slow second does not flap the state.
	degradedAfter = 3 * time.Second
)

// rateRing is how many arrival times rateWindow keeps: fpsWindow at 100 fps.
const rateRing = 512

// rateWindow measures an event rate from the arrival times of the last
// events, and the rate of the bytes they carry.
type rateWindow struct {
	times [rateRing]int64 // UnixNano, a ring
	sizes [rateRing]int   // bytes of each event
	next  int             // where the next time goes
	count int             // how many times are stored, up to rateRing
}

// add records an event of size bytes at t.
func (w *rateWindow) add(t time.Time, size int) {
	w.times[w.next] = t.UnixNano()
	w.sizes[w.next] = size
	w.next = (w.next + 1) % rateRing
	w.count = min(w.count+1, rateRing)
}

// rate returns the events per second over the fpsWindow before now: the
// events in the window, from the first of them to now. A stall brings it
// down at once; it is 0 with fewer than two events in the window.
func (w *rateWindow) rate(now time.Time) float64 {
	r, _ := w.rates(now)
	return r
}

// rates returns rate and the bytes per second of the same events, the first
// one's bytes left out as it opens the span.
func (w *rateWindow) rates(now time.Time) (events, bytes float64) {
	from := now.Add(-fpsWindow).UnixNano()
	n, first, sum, firstSize := 0, int64(0), 0, 0
	for i := 1; i <= w.count; i++ {
		j := (w.next - i + rateRing) % rateRing
		if w.times[j] < from {
			break
		}
		n, first, firstSize = n+1, w.times[j], w.sizes[j]
		sum += w.sizes[j]
	}
	if n < 2 {
		return 0, 0
	}
	span := now.Sub(time.Unix(0, first)).Seconds()
	return float64(n-1) / span, float64(sum-firstSize) / span
}

// lossBuckets counts RTP packets received and lost per second over lossWindow.
type lossBuckets struct {
	sec            [lossBucketCount]int64 // Unix second of each bucket
	received, lost [lossBucketCount]uint64
}

// lossBucketCount covers lossWindow and the second being filled.
const lossBucketCount = int(lossWindow/time.Second) + 1

// add counts received and lost packets at now.
func (l *lossBuckets) add(now time.Time, received, lost uint64) {
	s := now.Unix()
	i := int(s % int64(lossBucketCount))
	if l.sec[i] != s {
		l.sec[i], l.received[i], l.lost[i] = s, 0, 0
	}
	l.received[i] += received
	l.lost[i] += lost
}

// ratio returns the lost fraction over the lossWindow before now and how many
// packets the window holds.
func (l *lossBuckets) ratio(now time.Time) (float64, uint64) {
	var recv, lost uint64
	s := now.Unix()
	for i := range lossBucketCount {
		if age := s - l.sec[i]; age >= 0 && age < int64(lossBucketCount) {
			recv += l.received[i]
			lost += l.lost[i]
		}
	}
	if recv+lost == 0 {
		return 0, 0
	}
	return float64(lost) / float64(recv+lost), recv + lost
}

// uptimeClock accumulates the time a camera is up, in total and for the
// current UTC day.
type uptimeClock struct {
	started time.Time     // Run started; zero before
	upSince time.Time     // start of the current up interval not yet counted; zero while down
	total   time.Duration // counted up time since started
	day     time.Time     // 00:00 UTC of the day dayUp counts
	dayUp   time.Duration // counted up time in day
}

// start begins the clock at now.
func (c *uptimeClock) start(now time.Time) {
	*c = uptimeClock{started: now, day: midnight(now)}
}

// set records the camera up or down from now on.
func (c *uptimeClock) set(now time.Time, up bool) {
	c.fold(now)
	if up && c.upSince.IsZero() {
		c.upSince = now
	} else if !up {
		c.upSince = time.Time{}
	}
}

// fold counts the current up interval up to now, splitting it at midnight.
func (c *uptimeClock) fold(now time.Time) {
	if c.started.IsZero() {
		return
	}
	if d := midnight(now); !d.Equal(c.day) {
		c.day, c.dayUp = d, 0
	}
	if c.upSince.IsZero() || now.Before(c.upSince) {
		return
	}
	c.total += now.Sub(c.upSince)
	from := c.upSince
	if from.Before(c.day) {
		from = c.day
	}
	c.dayUp += now.Sub(from)
	c.upSince = now
}

// ratios returns the up fractions since start and since the later of start
// and 00:00 UTC.
func (c *uptimeClock) ratios(now time.Time) (total, today float64) {
	c.fold(now)
	if c.started.IsZero() {
		return 0, 0
	}
	if d := now.Sub(c.started); d > 0 {
		total = min(1, c.total.Seconds()/d.Seconds())
	}
	from := c.day
	if c.started.After(from) {
		from = c.started
	}
	if d := now.Sub(from); d > 0 {
		today = min(1, c.dayUp.Seconds()/d.Seconds())
	}
	return total, today
}

// midnight returns 00:00 UTC of t's day.
func midnight(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// statusBox guards a Status shared between the source's goroutines and readers.
type statusBox struct {
	mu     sync.Mutex
	status Status
	fps    rateWindow
	loss   lossBuckets
	uptime uptimeClock

	// Health of the current connection.
	firstAU time.Time // first access unit; zero while not up
	nominal float64   // highest FPS over a full fpsWindow since firstAU
	flipAt  time.Time // since when the health condition disagrees with the state; zero when it agrees
}
