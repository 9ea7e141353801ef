package analyzer

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
)

// Limits of the decoding-mode choice.
const (
	// shapeGOPs is how many of the latest GOPs the choice looks at: a few,
	// so that a camera that changes its GOP is followed within a minute.
	shapeGOPs = 5
	// minKeyGOPs is how many complete GOPs must have been seen before
	// decoding keyframes only: the first one alone could be a fluke.
	minKeyGOPs = 2
	// maxGOP bounds the GOPs counted: a longer one is a jump of the
	// stream's clock, not a keyframe interval.
	maxGOP = time.Minute
	// minOpenSpan is how much of the open GOP, in presentation time, must
	// have been seen before its structure counts: a second holds many
	// repetitions of a camera's B-frame pattern, and a camera whose
	// keyframes are 10 s apart need not decode every picture until then.
	minOpenSpan = time.Second
	// modeRecheck is how often, in presentation time, the mode is chosen
	// again between keyframes.
	modeRecheck = time.Second
)

// gopShape is what one complete GOP looked like, in presentation time.
type gopShape struct {
	length time.Duration // from its keyframe to the next
	refGap time.Duration // longest gap between reference pictures, the next keyframe included
	nonRef bool          // it had non-reference pictures
}

// streamShape learns a stream's structure from the access units it
// receives, decoded or not: how far apart its keyframes are, and how far
// apart its reference pictures are (what SkipNonReference still decodes).
// The zero value is ready; it is used by one goroutine.
type streamShape struct {
	open   bool          // a GOP has begun
	keyPTS time.Duration // PTS of its keyframe
	refs   []time.Duration
	nonRef bool

	gops [shapeGOPs]gopShape // ring of the latest complete GOPs
	n    int                 // how many of gops are set
	pos  int                 // where the next one goes
}

// observe takes the next access unit of the stream, in decode order, and
// reports whether its picture may be referred to by later ones (see
// isReference; a keyframe is).
func (s *streamShape) observe(codec ingest.Codec, au ingest.AccessUnit) (reference bool) {
	if au.Keyframe {
		if s.open {
			s.closeGOP(au.PTS)
		}
		s.open, s.keyPTS, s.nonRef = true, au.PTS, false
		s.refs = append(s.refs[:0], au.PTS)
		return true
	}
	reference = isReference(codec, au.NALUs)
	if !s.open {
		return reference
	}
	if reference {
		s.refs = append(s.refs, au.PTS)
	} else {
		s.nonRef = true
	}
	return reference
}

// closeGOP records the open GOP, ended by a keyframe at next.
func (s *streamShape) closeGOP(next time.Duration) {
	length := next - s.keyPTS
	if length <= 0 || length > maxGOP {
		return
	}
	s.refs = append(s.refs, next)
	s.gops[s.pos] = gopShape{length: length, refGap: s.refGap(), nonRef: s.nonRef}
	s.pos = (s.pos + 1) % shapeGOPs
	s.n = min(s.n+1, shapeGOPs)
}

// refGap sorts the open GOP's references by presentation time and returns
// the longest gap between two of them.
func (s *streamShape) refGap() time.Duration {
	slices.Sort(s.refs)
	return longestGap(s.refs)
}

// openGOP returns what the open GOP has shown so far, once it spans
// minOpenSpan of presentation time (ok false before). The gap before its
// latest reference is left out: a reference B-frame shown inside it may
// still be on its way (it follows in decode order).
func (s *streamShape) openGOP() (g gopShape, ok bool) {
	if !s.open || len(s.refs) < 3 { // a gap measured besides the last
		return gopShape{}, false
	}
	slices.Sort(s.refs)
	last := s.refs[len(s.refs)-1]
	if last-s.keyPTS < minOpenSpan {
		return gopShape{}, false
	}
	return gopShape{length: last - s.keyPTS, refGap: longestGap(s.refs[:len(s.refs)-1]), nonRef: s.nonRef}, true
}

// longestGap returns the longest gap between neighbours of sorted times.
func longestGap(times []time.Duration) time.Duration {
	var gap time.Duration
	for i := 1; i < len(times); i++ {
		gap = max(gap, times[i]-times[i-1])
	}
	return gap
}

// interrupt forgets the open GOP: access units of it went missing.
func (s *streamShape) interrupt() { s.open = false }

// reset forgets everything: a new stream begins.
func (s *streamShape) reset() {
	s.open, s.n, s.pos = false, 0, 0
}

// mode returns the cheapest decoding mode that still gives a sampler
// taking one picture per period a picture in every period:
//
//   - KeyframesOnly when period is at least the keyframe interval (the
//     longest of the latest GOPs, after minKeyGOPs of them, and of the open
//     one so far): every analysed picture is then a keyframe;
//   - SkipNonReference when the stream has non-reference pictures and
//     period is at least the longest gap between reference pictures in the
//     latest GOPs and the open one (at least two frame intervals, since a
//     skipped picture lies between two kept ones);
//   - EveryFrame otherwise, and before a GOP, complete or minOpenSpan of
//     the open one, has been seen.
//
// The longest, not a median: a camera that stretches its GOPs (a "smart"
// codec on a still scene) would otherwise be sampled slower than asked.
func (s *streamShape) mode(period time.Duration) decode.Mode {
	if period <= 0 {
		return decode.EveryFrame
	}
	open, seen := s.openGOP() // the zero gopShape when not seen: no effect below
	if s.n == 0 && !seen {
		return decode.EveryFrame
	}
	length, refGap, nonRef := open.length, open.refGap, open.nonRef
	for _, g := range s.gops[:s.n] {
		length, refGap = max(length, g.length), max(refGap, g.refGap)
		nonRef = nonRef || g.nonRef
	}
	if s.n >= minKeyGOPs && period >= length {
		return decode.KeyframesOnly
	}
	if nonRef && period >= refGap {
		return decode.SkipNonReference
	}
	return decode.EveryFrame
}

// ModeChooser chooses a camera decoder's mode from the structure of the
// stream it receives, as a Pipeline does (see streamShape.mode): keyframes
// only, reference pictures only, or every picture, for the sampling
// period asked. Feed it every access unit in decode order, decoded or not.
// The zero value is ready; it is used by one goroutine.
type ModeChooser struct {
	shape streamShape
	next  time.Duration // PTS from which the mode is chosen again
}

// Choose observes au and returns the mode to decode it in: cur, unless a
// change is due and can take effect here. At a keyframe any mode may begin;
// between keyframes (once per modeRecheck of presentation time) only a
// change between decoding every picture and skipping the non-reference
// ones, which no later picture refers to. reference tells whether au's
// picture may be referred to by later ones.
func (c *ModeChooser) Choose(codec ingest.Codec, au ingest.AccessUnit, period time.Duration, cur decode.Mode) (m decode.Mode, reference bool) {
	reference = c.shape.observe(codec, au)
	if !au.Keyframe && au.PTS < c.next {
		return cur, reference
	}
	c.next = au.PTS + modeRecheck
	m = c.shape.mode(period)
	if !au.Keyframe && (m == decode.KeyframesOnly || cur == decode.KeyframesOnly) {
		return cur, reference
	}
	return m, reference
}

// Interrupt forgets the open GOP: access units of it went missing.
func (c *ModeChooser) Interrupt() { c.shape.interrupt() }

// Reset forgets everything: a new stream begins.
func (c *ModeChooser) Reset() { *c = ModeChooser{} }

// NAL unit types and fields isReference reads (ITU-T H.264 7.4.1,
// H.265 7.4.2.2).
const (
	h264NALSlice    = 1
	h264NALIDR      = 5
	h265NALVCLLast  = 31 // types 0..31 are slices
	h265NALRsvVCL14 = 14 // even types up to here are sub-layer non-reference
)

// isReference reports whether the picture of an access unit may be
// referred to by others (what libavcodec decodes in SkipNonReference mode):
// an H.264 slice with a non-zero nal_ref_idc, an H.265 slice whose type is
// not a sub-layer non-reference one. A unit without a slice counts as a
// reference, the cautious answer.
func isReference(codec ingest.Codec, nalus [][]byte) bool {
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		if codec == ingest.H265 {
			t := n[0] >> 1 & 0x3f
			if t <= h265NALVCLLast {
				return t > h265NALRsvVCL14 || t%2 == 1
			}
			continue
		}
		if t := n[0] & 0x1f; t >= h264NALSlice && t <= h264NALIDR {
			return n[0]>>5&3 != 0
		}
	}
	return true
}

// DecodeMetrics show what each camera's decoder does. Pictures decoded are
// Metrics.FramesDecoded; these add the access units received and the mode.
type DecodeMetrics struct {
	AccessUnits *prometheus.CounterVec // by camera
	Mode        *prometheus.GaugeVec   // by camera and mode: 1 for the current mode, else 0
}

// NewDecodeMetrics builds the decoding metrics and registers them with reg
// when it is not nil.
func NewDecodeMetrics(reg prometheus.Registerer) *DecodeMetrics {
	m := &DecodeMetrics{
		AccessUnits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matthan_access_units_received_total",
			Help: "Access units the camera's decoder received (decoded or skipped by its mode).",
		}, []string{"camera"}),
		Mode: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "matthan_decode_mode",
			Help: "The decoder's mode, 1 for the current one: every-frame, skip-non-reference or keyframes-only.",
		}, []string{"camera", "mode"}),
	}
	if reg != nil {
		reg.MustRegister(m.AccessUnits, m.Mode)
	}
	return m
}

// setMode shows m as camera's current mode.
func (m *DecodeMetrics) setMode(camera string, cur decode.Mode) {
	for _, x := range []decode.Mode{decode.EveryFrame, decode.SkipNonReference, decode.KeyframesOnly} {
		v := 0.0
		if x == cur {
			v = 1
		}
		m.Mode.WithLabelValues(camera, x.String()).Set(v)
	}
}
