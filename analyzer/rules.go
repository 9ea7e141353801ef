package analyzer

import (
	"time"

	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// Rule is a rule on the camera's tracks, such as the violations (red light,
// wrong way, illegal parking, restricted lane). An Analyst calls Observe on
// every frame the detector ran on, after the tracker, with every live
// track (tentative and confirmed; rules act on confirmed ones), from the
// one goroutine that analyses the camera: a Rule need not be safe for
// concurrent use.
//
// frame is the frame the detector analysed, which may be scaled to the
// model's input: geometry (tracks, the scene) is in the pixels of its
// source picture (frame.SourceSize), and frame.Full gives that picture at
// full size, converted on the first call of the frame, so a rule that
// reads pixels (a signal head's colour) or keeps evidence asks for it
// only when it needs it. Observe must not keep or modify frame or tracks
// after it returns: the frame's buffer is reused for the next frame, so
// evidence (a JPEG snapshot) is encoded during the call. Observe returns the events proven
// on this frame; the Analyst fills in their CameraID, SystemID, Node and
// Model when left empty, so a rule sets only what it knows (type, ts, zone
// or line, object, measures, evidence). Flush returns the events a rule
// still holds at the end of a file or on shutdown.
//
// The Analyst does not close its rules: whoever built a rule frees it.
type Rule interface {
	Observe(ts time.Time, frame *decode.Frame, tracks []track.Track) []sink.Event
	Flush() []sink.Event
}

// Analytic is a rule that looks at frames with its own model and at its
// own rate, independent of the camera's detector and tracker: smoke and
// fire on the fire/smoke model, or a still-image mode for forest cameras
// (one full-resolution frame every N seconds). Interval is the capture time
// between two frames it wants, 0 for every frame the Analyst gets; the
// Analyst asks the live pipeline to sample at the fastest rate any
// analytic or the detector wants, and hands each analytic the frames of
// its own rate, at full resolution. Analyse's events and errors follow
// Rule.Observe's contract (the frame is valid during the call only; events
// are stamped; called from one goroutine); an error is counted and logged
// at a limited rate, and the analytic is called again on its next frame.
// An analytic's events carry its own Model; the Analyst sets the
// detector's only on events that have none.
type Analytic interface {
	Interval() time.Duration
	Analyse(ts time.Time, frame *decode.Frame) ([]sink.Event, error)
	Flush() []sink.Event
}

// Annotator is implemented by a Rule or an Analytic whose live state a
// person checking an annotated video needs to see, such as the colour a
// signal head shows or the region a smoke alarm is watching. Annotations
// is called from the goroutine that analyses the camera, after Observe or
// Analyse, and only when a video is annotated.
type Annotator interface {
	Annotations() []Annotation
}

// Annotation is one item drawn on an annotated video.
type Annotation struct {
	// Text is drawn at the box's top-left corner, or in the list of
	// states at the frame's top-left when Box is zero.
	Text string
	// Box is x1, y1, x2, y2 normalised to the frame; zero for text only.
	Box [4]float32
	// Alert draws the item in red (a signal on red, a region in alarm).
	Alert bool
}
