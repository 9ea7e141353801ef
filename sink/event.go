package sink

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
)

// SchemaVersion names the version of the event schema (schema/event.v1.json)
// every event produced by this package follows.
const SchemaVersion = "matthan.event/v1"

// Event types. The part before the dot names the audience (and the Kafka topic).
const (
	// TypeDetectionSummary reports the objects per class seen in one frame.
	TypeDetectionSummary = "detection.summary"

	// TypeViolationRedLight is a vehicle crossing the stop line on red.
	TypeViolationRedLight = "violation.red_light"
	// TypeViolationWrongWay is a vehicle driving against its lane's direction.
	TypeViolationWrongWay = "violation.wrong_way"
	// TypeViolationIllegalParking is a vehicle stopped in a no-parking zone too long.
	TypeViolationIllegalParking = "violation.illegal_parking"
	// TypeViolationRestrictedLane is a vehicle in a lane its class may not use.
	TypeViolationRestrictedLane = "violation.restricted_lane"
	// TypeViolationNoHelmet is a motorcycle rider without a helmet.
	TypeViolationNoHelmet = "violation.no_helmet"

	// TypeAlertSmoke is smoke seen in a camera's view.
	TypeAlertSmoke = "alert.smoke"
	// TypeAlertFire is fire seen in a camera's view.
	TypeAlertFire = "alert.fire"
	// TypeAlertCrowd is a crowd zone above its density threshold.
	TypeAlertCrowd = "alert.crowd"

	// TypeTrafficCount is the objects that crossed a counting line in an interval.
	TypeTrafficCount = "traffic.count"

	// TypeCameraOffline is a camera that stopped delivering its stream.
	TypeCameraOffline = "camera.offline"
	// TypeCameraOnline is a camera that delivers its stream again.
	TypeCameraOnline = "camera.online"
	// TypeCameraDegraded is a camera that delivers, but too few frames or
	// with too many packets lost.
	TypeCameraDegraded = "camera.degraded"
	// TypeCameraFrozen is a camera whose picture stopped changing.
	TypeCameraFrozen = "camera.frozen"
	// TypeCameraTampered is a camera whose lens was covered, defocused or moved.
	TypeCameraTampered = "camera.tampered"
	// TypeRecordingGap is an interval without recording (camera down, disk, restart).
	TypeRecordingGap = "recording.gap"
	// TypeRecordingIncident is a storage problem that threatens recording
	// (disk full or failing, size cap reached with only young recordings).
	TypeRecordingIncident = "recording.incident"
	// TypeRecordingResolved is the end of a recording incident.
	TypeRecordingResolved = "recording.resolved"
)

// tsLayout is how event times are written: RFC 3339, UTC, milliseconds.
const tsLayout = "2006-01-02T15:04:05.000Z07:00"

// Event is one analysis result, published as one JSON object.
type Event struct {
	// ID is a UUIDv7, the key consumers dedupe on (delivery is at-least-once).
	ID string `json:"id"`
	// Schema is SchemaVersion.
	Schema string `json:"schema"`
	// Type is one of the Type* constants.
	Type string `json:"type"`
	// CameraID is the camera whose frame proved the event; the Kafka key.
	CameraID string `json:"camera_id"`
	// SystemID is the camera system the camera belongs to.
	SystemID string `json:"system_id,omitempty"`
	// Tier is the system's tier (I, II, III).
	Tier string `json:"tier,omitempty"`
	// TS is the capture time of the frame that proved the event; it is
	// written as RFC 3339 UTC with milliseconds.
	TS time.Time `json:"ts"`
	// Zone is the id of the scene zone the event happened in.
	Zone string `json:"zone,omitempty"`
	// Line is the id of the counting or stop line the event is about.
	Line string `json:"line,omitempty"`
	// Object is the tracked object the event is about.
	Object *Object `json:"object,omitempty"`
	// Counts is the number of objects per class (detection.summary, traffic.count).
	Counts map[string]int `json:"counts,omitempty"`
	// Measures holds the event's numbers: count, density, speed, ...
	Measures map[string]float64 `json:"measures,omitempty"`
	// Detail is a short human-readable explanation (health events: why the
	// camera is offline, which tamper condition). Never holds a camera URL.
	Detail string `json:"detail,omitempty"`
	// Evidence points at the snapshot and clip that prove the event.
	Evidence *Evidence `json:"evidence,omitempty"`
	// Model is the model that made the detections.
	Model *ModelRef `json:"model,omitempty"`
	// Node is the name of the analyzer node that produced the event.
	Node string `json:"node"`
}

// Object is a tracked object.
type Object struct {
	// TrackID is the tracker's id for the object, unique per camera.
	TrackID int64 `json:"track_id"`
	// Class is the detected class (car, person, motorcycle, ...).
	Class string `json:"class"`
	// Confidence is the detector's score in [0, 1].
	Confidence float32 `json:"confidence"`
	// Box is x1, y1, x2, y2 in coordinates normalised to [0, 1] of the frame.
	Box [4]float32 `json:"box"`
}

// Evidence points at the recorded proof of an event.
type Evidence struct {
	// SnapshotSHA256 is the hex sha256 of the evidence snapshot (JPEG).
	SnapshotSHA256 string `json:"snapshot_sha256,omitempty"`
	// ClipFrom is the start of the clip window in the recordings.
	ClipFrom time.Time `json:"clip_from,omitzero"`
	// ClipTo is the end of the clip window in the recordings.
	ClipTo time.Time `json:"clip_to,omitzero"`
}

// ModelRef names the model behind a detection.
type ModelRef struct {
	// Name is the model's manifest name (yolox_nano, ...).
	Name string `json:"name"`
	// Version is the model's manifest version.
	Version string `json:"version"`
}

// NewEvent returns an event of type typ for camera captured at ts, with a
// fresh UUIDv7 ID and the current SchemaVersion.
func NewEvent(typ, camera string, ts time.Time) Event {
	return Event{
		ID:       newID(),
		Schema:   SchemaVersion,
		Type:     typ,
		CameraID: camera,
		TS:       ts.UTC(),
	}
}

// newID returns a UUIDv7 string. uuid.NewV7 fails only when the system's
// random source fails; a random v4 UUID is then no better, so it panics like
// uuid.New does.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Validate reports, wrapping ErrInvalidEvent, the first required field the
// event lacks or has malformed.
func (e Event) Validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("%w: id is empty", ErrInvalidEvent)
	case e.Schema == "":
		return fmt.Errorf("%w: schema is empty", ErrInvalidEvent)
	case e.Type == "":
		return fmt.Errorf("%w: type is empty", ErrInvalidEvent)
	case e.CameraID == "":
		return fmt.Errorf("%w: camera_id is empty", ErrInvalidEvent)
	case e.TS.IsZero():
		return fmt.Errorf("%w: ts is zero", ErrInvalidEvent)
	}
	if _, err := uuid.Parse(e.ID); err != nil {
		return fmt.Errorf("%w: id %q is not a UUID", ErrInvalidEvent, e.ID)
	}
	for k, v := range e.Measures {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: measures[%q] is %v, not a finite number", ErrInvalidEvent, k, v)
		}
	}
	return nil
}

// eventFields is Event without its methods, so MarshalJSON can reuse the
// struct tags without recursing.
type eventFields Event

// MarshalJSON writes the event with ts as RFC 3339 UTC with milliseconds.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		eventFields
		TS string `json:"ts"`
	}{eventFields(e), e.TS.UTC().Format(tsLayout)})
}
