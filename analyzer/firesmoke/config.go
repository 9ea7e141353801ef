package firesmoke

import (
	"fmt"
	"math"
	"time"
)

// Config tunes a Rule. The zero value gives the defaults, which are chosen
// for the firesmoke_* models at 1–5 analysed frames per second; durations
// are in capture time, so they hold at any analysis rate.
type Config struct {
	// FireClass and SmokeClass are the detector's class names. Default to
	// "fire" and "smoke".
	FireClass, SmokeClass string
	// MinScore is the lowest detection score that counts as a vote for a
	// region. Defaults to 0.3: weak evidence the temporal tests may still
	// confirm; the detector must report down to it.
	MinScore float32
	// AlertScore is the mean score a region's votes in the window must
	// reach. Defaults to 0.4, the models' single-frame operating threshold.
	AlertScore float32
	// Window is the span of samples the votes and the dynamics are taken
	// over. Defaults to 10 s. With stills several seconds apart make it at
	// least four sample intervals.
	Window time.Duration
	// MinVotes is the fraction of the samples in the window in which the
	// region must have been detected (k of n). Defaults to 0.6.
	MinVotes float64
	// MinPersistence is how long a region must have been seen before it
	// may alert. Defaults to 5 s.
	MinPersistence time.Duration
	// MinArea is the smallest region, as a fraction of the frame's area.
	// Defaults to 0.0005 (a 32×32-pixel box in a 1080p frame).
	MinArea float64
	// FireFlicker is the median change of brightness between consecutive
	// samples (mean absolute luma difference, grey levels) a fire region
	// must show. Defaults to 6: burning windows change by 15–20, while a
	// blinking warning lamp or a car edging through a corner of the box
	// changes it by 4–5 (measured on the shared footage); a static object
	// changes by less than 1.
	FireFlicker float64
	// SmokeActivity is the same median change a smoke region must show.
	// Defaults to 1.5.
	SmokeActivity float64
	// SmokeSpread is the median fraction of a smoke region's pixels that
	// must change by more than 3 grey levels between samples. Defaults to
	// 0.1: a drifting plume changes much of its box.
	SmokeSpread float64
	// SmokeMaxStrength is the largest median mean change (grey levels) of
	// the changed pixels of a smoke region. Defaults to 20: smoke is
	// translucent and shifts the brightness behind it by a fraction of the
	// scene's contrast, while a solid thing moving (people walking, their
	// shadows, a car) changes its pixels by its whole contrast.
	SmokeMaxStrength float64
	// MaxDrift is how far a region's centre may move from where it was
	// first seen, in box sizes (the larger of its first and its current
	// box). Defaults to 1: flames stay where they burn and a plume stays
	// anchored at its source while its box grows, but a red car or a
	// yellow bus the model follows drives away by several of its lengths.
	MaxDrift float64
	// MaxRigid is the largest ratio between the change of a region's
	// content when followed along its box's motion and its change in place
	// above which the region still counts as non-rigid; a car driving
	// through keeps its look along its motion (small ratio). Defaults to
	// 0.5.
	MaxRigid float64
	// Quiet is how long no region of a class may qualify before that
	// class's alert clears (a later alert is then new). Defaults to 60 s.
	Quiet time.Duration
	// SeverityPersistence are the persistences that raise the severity to
	// 2 and to 3. Default to 60 s and 300 s.
	SeverityPersistence [2]time.Duration
	// SeverityGrowth are the growths of a region's area since it was first
	// seen that raise the severity to 2 and to 3. Default to 1.5 and 3.
	SeverityGrowth [2]float64
	// ClipBefore and ClipAfter widen the evidence clip window around the
	// region's first sighting and the alert. Default to 5 s each.
	ClipBefore, ClipAfter time.Duration
	// SnapshotQuality is the JPEG quality of the evidence snapshot.
	// Defaults to 85.
	SnapshotQuality int
}

func (c Config) withDefaults() (Config, error) {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.FireClass == "" {
		c.FireClass = "fire"
	}
	if c.SmokeClass == "" {
		c.SmokeClass = "smoke"
	}
	if c.MinScore == 0 {
		c.MinScore = 0.3
	}
	if c.AlertScore == 0 {
		c.AlertScore = 0.4
	}
	if c.SnapshotQuality == 0 {
		c.SnapshotQuality = 85
	}
	defD(&c.Window, 10*time.Second)
	defD(&c.MinPersistence, 5*time.Second)
	defD(&c.Quiet, 60*time.Second)
	defD(&c.SeverityPersistence[0], 60*time.Second)
	defD(&c.SeverityPersistence[1], 300*time.Second)
	defD(&c.ClipBefore, 5*time.Second)
	defD(&c.ClipAfter, 5*time.Second)
	def(&c.MinVotes, 0.6)
	def(&c.MinArea, 0.0005)
	def(&c.FireFlicker, 6)
	def(&c.SmokeActivity, 1.5)
	def(&c.SmokeSpread, 0.1)
	def(&c.SmokeMaxStrength, 20)
	def(&c.MaxDrift, 1)
	def(&c.MaxRigid, 0.5)
	def(&c.SeverityGrowth[0], 1.5)
	def(&c.SeverityGrowth[1], 3)

	bad := func(field string, v any, want string) error {
		return fmt.Errorf("%w: %s %v: expected %s", ErrInvalidConfig, field, v, want)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.FireClass == c.SmokeClass:
		return c, bad("SmokeClass", c.SmokeClass, "a class other than FireClass")
	case !(c.MinScore > 0 && c.MinScore < 1):
		return c, bad("MinScore", c.MinScore, "a score in (0, 1)")
	case !(c.AlertScore >= c.MinScore && c.AlertScore < 1):
		return c, bad("AlertScore", c.AlertScore, "a score in [MinScore, 1)")
	case c.Window < 0 || c.MinPersistence < 0 || c.Quiet < 0 || c.ClipBefore < 0 || c.ClipAfter < 0:
		return c, bad("Window, MinPersistence, Quiet, ClipBefore or ClipAfter", "", "durations ≥ 0")
	case !(c.MinVotes > 0 && c.MinVotes <= 1):
		return c, bad("MinVotes", c.MinVotes, "a fraction in (0, 1]")
	case !(c.MinArea > 0 && c.MinArea < 1):
		return c, bad("MinArea", c.MinArea, "a fraction of the frame in (0, 1)")
	case !finite(c.FireFlicker) || c.FireFlicker < 0:
		return c, bad("FireFlicker", c.FireFlicker, "grey levels ≥ 0")
	case !finite(c.SmokeActivity) || c.SmokeActivity < 0:
		return c, bad("SmokeActivity", c.SmokeActivity, "grey levels ≥ 0")
	case !(c.SmokeSpread >= 0 && c.SmokeSpread <= 1):
		return c, bad("SmokeSpread", c.SmokeSpread, "a fraction in [0, 1]")
	case !(c.SmokeMaxStrength > spreadLevel) || !finite(c.SmokeMaxStrength):
		return c, bad("SmokeMaxStrength", c.SmokeMaxStrength, "grey levels above 3")
	case !(c.MaxDrift > 0) || !finite(c.MaxDrift):
		return c, bad("MaxDrift", c.MaxDrift, "box sizes > 0")
	case !(c.MaxRigid > 0):
		return c, bad("MaxRigid", c.MaxRigid, "a ratio > 0")
	case c.SeverityPersistence[0] < 0 || c.SeverityPersistence[1] < c.SeverityPersistence[0]:
		return c, bad("SeverityPersistence", c.SeverityPersistence, "two increasing durations ≥ 0")
	case !(c.SeverityGrowth[0] > 1) || !(c.SeverityGrowth[1] >= c.SeverityGrowth[0]) || !finite(c.SeverityGrowth[1]):
		return c, bad("SeverityGrowth", c.SeverityGrowth, "two increasing area ratios > 1")
	case c.SnapshotQuality < 1 || c.SnapshotQuality > 100:
		return c, bad("SnapshotQuality", c.SnapshotQuality, "1 to 100")
	}
	return c, nil
}
