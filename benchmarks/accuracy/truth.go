package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/matthan/matthan/analyzer/scene"
)

// Truth is one clip's ground truth (benchmarks/groundtruth/<clip stem>.yaml,
// written by a person watching the clip; see its README). Only the keys the
// harness scores are read; the others (notes, look-alikes) are for people.
type Truth struct {
	// File is the ground-truth file it was read from.
	File string `yaml:"-"`
	// Clip is the footage file name.
	Clip string `yaml:"clip"`
	// Camera is the scene's camera id.
	Camera string `yaml:"camera"`
	// DurationS is the clip's length.
	DurationS float64 `yaml:"duration_s"`
	// Lines and Zones are in the scene format.
	Lines []scene.Line `yaml:"lines"`
	Zones []scene.Zone `yaml:"zones"`
	// Crossings are the certain crossings; Uncertain the ones a person
	// could not settle (reported apart).
	Crossings []Crossing `yaml:"crossings"`
	Uncertain []Crossing `yaml:"uncertain"`
	// PeopleCounts are the people in a zone at sampled times.
	PeopleCounts []PeopleCount `yaml:"people_counts"`
	// Smoke and Fire are "none" or "present"; the first visible times are
	// seconds from the start of the file.
	Smoke             string   `yaml:"smoke"`
	Fire              string   `yaml:"fire"`
	SmokeFirstVisible *float64 `yaml:"smoke_first_visible_s"`
	FireFirstVisible  *float64 `yaml:"fire_first_visible_s"`
}

// Crossing is one vehicle crossing a line.
type Crossing struct {
	// T is the time of the crossing, seconds from the start of the file.
	T float64 `yaml:"t"`
	// Line, Direction and Class say what crossed where.
	Line      string `yaml:"line"`
	Direction string `yaml:"direction"`
	Class     string `yaml:"class"`
}

// PeopleCount is the number of people in a zone at one time.
type PeopleCount struct {
	// T is seconds from the start of the file (the first frame at or after).
	T float64 `yaml:"t"`
	// Zone is the zone's id.
	Zone string `yaml:"zone"`
	// Count is the best estimate; Min and Max the range allowed by people
	// on the zone's edge.
	Count int `yaml:"count"`
	Min   int `yaml:"min"`
	Max   int `yaml:"max"`
}

// LoadTruth reads every ground-truth file of dir, sorted by name.
func LoadTruth(dir string) ([]Truth, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []Truth
	for _, f := range files {
		t, err := ReadTruth(f)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// ReadTruth reads one ground-truth file.
func ReadTruth(path string) (Truth, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Truth{}, fmt.Errorf("ground truth: %w", err)
	}
	var t Truth
	if err := yaml.Unmarshal(data, &t); err != nil {
		return Truth{}, fmt.Errorf("ground truth %s: %w", path, err)
	}
	t.File = path
	if t.Clip == "" {
		return Truth{}, fmt.Errorf("ground truth %s: clip is missing", path)
	}
	if t.Camera == "" {
		t.Camera = strings.TrimSuffix(t.Clip, filepath.Ext(t.Clip))
	}
	if _, err := t.Scene(0); err != nil {
		return Truth{}, fmt.Errorf("ground truth %s: %w", path, err)
	}
	return t, nil
}

// Scene returns the clip's scene, in the YAML form matthan analyze reads,
// and checks it. Zones of kinds the harness does not score are kept (a
// smoke-watch zone feeds the smoke rule). A clip the ground truth says has
// no smoke or fire, and that has no smoke-watch zone, gets one over the
// whole frame, so that its false alerts are measured where they would hurt
// most.
//
// stills > 0 asks for the fire and smoke analysis in stills mode, one frame
// every stills (scene.FireSmokeStills).
func (t Truth) Scene(stills time.Duration) ([]byte, error) {
	zones := slices.Clone(t.Zones)
	if t.HasSmokeTruth() && !slices.ContainsFunc(zones, func(z scene.Zone) bool { return z.Kind == scene.ZoneSmokeWatch }) {
		zones = append(zones, scene.Zone{ID: "whole_frame", Kind: scene.ZoneSmokeWatch,
			Polygon: scene.Polygon{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}, {X: 0, Y: 1}}})
	}
	sc := scene.Scene{Camera: t.Camera, Lines: t.Lines, Zones: zones}
	if stills > 0 {
		sc.FireSmoke = &scene.FireSmoke{Mode: scene.FireSmokeStills, Interval: scene.Duration(stills)}
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return yaml.Marshal(sc)
}

// HasCounts reports whether the clip has counting ground truth.
func (t Truth) HasCounts() bool { return len(t.Lines) > 0 }

// HasPeople reports whether the clip has people-count ground truth.
func (t Truth) HasPeople() bool { return len(t.PeopleCounts) > 0 }

// HasSmokeTruth reports whether the clip says whether smoke or fire is
// present.
func (t Truth) HasSmokeTruth() bool { return t.Smoke != "" || t.Fire != "" }
