package violation

import (
	"fmt"
	"math"
	"time"
)

// Config tunes an Engine. The zero value gives the defaults. The defaults
// are first choices argued from detector jitter, sampling at 2–10 frames
// per second and how traffic moves; the accuracy harness of issue #5 is
// where they get measured. Distances are in units of the frame height
// (x is scaled by Aspect so that a distance means the same across and
// along the picture), or in units of the object's own box height where
// the noise they guard against scales with the object.
type Config struct {
	// Vehicles are the classes the vehicle rules (red light, wrong way,
	// illegal parking, and zones or lanes without their own classes)
	// apply to. Defaults to car, truck, bus, motorcycle, bicycle: a person
	// crossing on red is not a red-light violation.
	Vehicles []string
	// Aspect is the frame's width over its height. Defaults to 16/9; set
	// it to the camera's, or distances across the picture are off by the
	// ratio.
	Aspect float64
	// Margin is the hysteresis at every line and polygon edge, as a
	// fraction of the box height: a reference point changes side of the
	// stop line, or enters or leaves a lane or zone, only once it is this
	// far past the edge. Defaults to 0.25, several times the frame-to-frame
	// jitter of a detector's box edge and small against the distance a
	// vehicle covers between frames. Jitter at an edge therefore changes
	// nothing.
	Margin float64
	// MinMargin is the least margin, for small far-away boxes. Defaults to
	// 0.01.
	MinMargin float64
	// FeedTTL is how long a state given by SetSignal holds: the external
	// feed wins over the camera's colour reading while its latest state is
	// younger than this, so the feed must repeat the state at least as
	// often. Defaults to 10 s.
	FeedTTL time.Duration
	// WrongWayAngle is, in degrees, how far the direction of travel may be
	// from the exact reverse of the lane's direction to count as against
	// it. Defaults to 45: a legal driver never points within 45° of the
	// reverse, and lane changes and turns are mostly sideways.
	WrongWayAngle float64
	// WrongWayWindow is the span over which the direction of travel is
	// measured (the displacement from the observation this long ago to the
	// latest). Defaults to 1 s: two frames at 2 fps, long enough that the
	// displacement of a moving vehicle dwarfs box jitter.
	WrongWayWindow time.Duration
	// WrongWayTime is how long a vehicle must keep driving against the lane
	// to be flagged. Defaults to 2 s.
	WrongWayTime time.Duration
	// WrongWayDistance is how far, against the lane's direction, it must
	// have driven in that time. Defaults to 0.08 (of the frame height):
	// several car lengths in a typical elevated view, far above jitter.
	WrongWayDistance float64
	// Dwell is how long a vehicle may stand still in a no-parking zone
	// whose dwell is not set. Defaults to 2 min, longer than a red phase,
	// so a queue at a signal is not parking.
	Dwell time.Duration
	// StillRadius is how far, as a fraction of the box height, the
	// reference point may wander and the vehicle still count as standing
	// still. Defaults to 0.15: above the jitter of a still box, below the
	// half car length a queue advances by when it moves.
	StillRadius float64
	// ParkedMemory is how long the stillness of a vehicle whose track ended
	// is remembered: a new track standing at the same place within that
	// time inherits it (a bus passing in front of a parked car splits its
	// track). Defaults to 30 s.
	ParkedMemory time.Duration
	// RestrictedTime is how long a vehicle of a class the lane does not
	// allow (or that a restricted zone lists) must stay in it to be
	// flagged. Defaults to 3 s: crossing a lane to change lanes or turn
	// takes 1–3 s.
	RestrictedTime time.Duration
	// Cooldown is how long after a violation at a place (rule and stop
	// line, lane or zone) a new track that appeared where the offender's
	// track ended is taken for the same vehicle (a track id switch) and
	// not flagged again. Defaults to 10 s.
	Cooldown time.Duration
	// ClipBefore and ClipAfter are the evidence clip window around the
	// violation's time. Default to 5 s each.
	ClipBefore, ClipAfter time.Duration
	// JPEGQuality is the snapshot's JPEG quality, 1–100. Defaults to 90:
	// plates and lamps must stay legible.
	JPEGQuality int
}

func (c Config) withDefaults() (Config, error) {
	if c.Vehicles == nil {
		c.Vehicles = []string{"car", "truck", "bus", "motorcycle", "bicycle"}
	}
	if c.Aspect == 0 {
		c.Aspect = 16.0 / 9
	}
	if c.Margin == 0 {
		c.Margin = 0.25
	}
	if c.MinMargin == 0 {
		c.MinMargin = 0.01
	}
	if c.FeedTTL == 0 {
		c.FeedTTL = 10 * time.Second
	}
	if c.WrongWayAngle == 0 {
		c.WrongWayAngle = 45
	}
	if c.WrongWayWindow == 0 {
		c.WrongWayWindow = time.Second
	}
	if c.WrongWayTime == 0 {
		c.WrongWayTime = 2 * time.Second
	}
	if c.WrongWayDistance == 0 {
		c.WrongWayDistance = 0.08
	}
	if c.Dwell == 0 {
		c.Dwell = 2 * time.Minute
	}
	if c.StillRadius == 0 {
		c.StillRadius = 0.15
	}
	if c.ParkedMemory == 0 {
		c.ParkedMemory = 30 * time.Second
	}
	if c.RestrictedTime == 0 {
		c.RestrictedTime = 3 * time.Second
	}
	if c.Cooldown == 0 {
		c.Cooldown = 10 * time.Second
	}
	if c.ClipBefore == 0 {
		c.ClipBefore = 5 * time.Second
	}
	if c.ClipAfter == 0 {
		c.ClipAfter = 5 * time.Second
	}
	if c.JPEGQuality == 0 {
		c.JPEGQuality = 90
	}
	for _, f := range []struct {
		name string
		v    float64
		lo   float64
		hi   float64
	}{
		{"Aspect", c.Aspect, 0.1, 10},
		{"Margin", c.Margin, 0, 2},
		{"MinMargin", c.MinMargin, 0, 0.5},
		{"WrongWayAngle", c.WrongWayAngle, 0, 90},
		{"WrongWayDistance", c.WrongWayDistance, 0, 2},
		{"StillRadius", c.StillRadius, 0, 2},
	} {
		if math.IsNaN(f.v) || f.v <= f.lo || f.v > f.hi {
			return c, fmt.Errorf("%w: %s %g is outside (%g, %g]", ErrInvalidConfig, f.name, f.v, f.lo, f.hi)
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{
		{"FeedTTL", c.FeedTTL}, {"WrongWayWindow", c.WrongWayWindow}, {"WrongWayTime", c.WrongWayTime},
		{"Dwell", c.Dwell}, {"ParkedMemory", c.ParkedMemory}, {"RestrictedTime", c.RestrictedTime},
		{"Cooldown", c.Cooldown}, {"ClipBefore", c.ClipBefore}, {"ClipAfter", c.ClipAfter},
	} {
		if f.v < 0 {
			return c, fmt.Errorf("%w: %s %v is negative", ErrInvalidConfig, f.name, f.v)
		}
	}
	if c.JPEGQuality < 1 || c.JPEGQuality > 100 {
		return c, fmt.Errorf("%w: JPEGQuality %d is outside 1..100", ErrInvalidConfig, c.JPEGQuality)
	}
	return c, nil
}
