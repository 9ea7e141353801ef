package benchmarks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"
)

// Targets of issue #4, as ratios measured in one run.
const (
	// TargetFullPath is the share of the raw ONNX Runtime rate (same
	// sessions and threads) the saturated full path must reach.
	TargetFullPath = 0.85
	// TargetPeer is how many times the Python baseline's frames per second
	// our components must analyse.
	TargetPeer = 1.5
)

// Output file names inside Config.Out.
const (
	ResultsJSON = "results.json"
	ResultsPNG  = "results.png"
	ResultsText = "results.txt" // the table
)

// ratios computes the targets' ratios from the measurements.
func ratios(rep *Report) []Ratio {
	var out []Ratio
	if sat, ok := rep.saturated(); ok {
		start, ok0 := rep.raw(kindRaw, rep.Threads, rep.Workers)
		before, ok1 := rep.raw(kindRawBefore, rep.Threads, rep.Workers)
		after, ok2 := rep.raw(kindRawAfter, rep.Threads, rep.Workers)
		if ok0 && ok1 && ok2 {
			rawRate := (before.FramesPerSec + after.FramesPerSec) / 2
			r := Ratio{
				Name:   fmt.Sprintf("full path (%s) ÷ %s", sat.Name, start.Name),
				Value:  sat.FramesPerSec / rawRate,
				Target: fmt.Sprintf("≥ %.2f", TargetFullPath),
			}
			r.Met = r.Value >= TargetFullPath
			r.Note = fmt.Sprintf("raw %.1f just before and %.1f just after the saturated run, mean used (%.1f in (a)); ",
				before.FramesPerSec, after.FramesPerSec, start.FramesPerSec)
			if pub, ok := rep.raw(kindRawPublished, rep.Threads, rep.Workers); ok {
				r.Note += fmt.Sprintf("raw is the graph the scheduler runs, its Focus folded into the preprocessing (the graph as published: %.1f); ",
					pub.FramesPerSec)
			}
			if d, ok := rep.raw(kindDetect, rep.Threads, rep.Workers); ok {
				r.Note += fmt.Sprintf("Scheduler.Detect alone reaches %.2f of raw, the full path %.2f of Detect; ",
					d.FramesPerSec/rawRate, sat.FramesPerSec/d.FramesPerSec)
				if in, alone := sat.Infer, d.Infer; in.Runs > 0 && alone.Runs > 0 {
					// Where the rest went: the same CPU per inference means
					// the workers waited for cores that other work held.
					r.Note += fmt.Sprintf("CPU per inference (worker thread clocks) %.2f ms alone, %.2f ms in the full path, "+
						"whose workers had a core %.0f%% of their busy time; the path's other work (decoding, conversion, "+
						"preprocessing, RTSP) used %.2f of the %d cores; ",
						alone.CPUMs, in.CPUMs, 100*in.CPUMs/in.BusyMs,
						(sat.CPUSeconds-in.CPUSeconds)/sat.Seconds, rep.Host.CPUs)
				}
			}
			if sat.SimulatorCPUSeconds > 0 {
				r.Note += fmt.Sprintf("the camera simulator (another process, not part of the path) used %.2f of the cores; ",
					sat.SimulatorCPUSeconds/sat.Seconds)
			}
			if sat.Seconds > 0 {
				r.Note += fmt.Sprintf("%.2f of the %d cores stayed idle; ", sat.IdleCPUSeconds/sat.Seconds, rep.Host.CPUs)
			}
			if sat.FramesPerSec >= 0.97*sat.DemandPerSec {
				r.Note += fmt.Sprintf("not inference-bound: the cameras asked for %.0f frames/s and all were analysed", sat.DemandPerSec)
			} else {
				r.Note += fmt.Sprintf("inference-bound: the cameras sent %.0f frames/s, %.0f were decoded, %.0f analysed, %.3f CPU s per analysed frame",
					sat.DemandPerSec, float64(sat.Decoded)/sat.Seconds, sat.FramesPerSec, sat.CPUPerFrame)
			}
			out = append(out, r)
		}
	}
	if p := rep.Peer; p != nil && p.best().FramesPerSec > 0 {
		best, a, c := p.best(), p.Agreement, p.CamerasAgreement
		r := Ratio{
			Name:   "ours (clips as cameras) ÷ best Python baseline, frames/s (same files, frames, model)",
			Value:  p.Cameras.FramesPerSec / best.FramesPerSec,
			Target: fmt.Sprintf("≥ %.1f at the same detections", TargetPeer),
			Note: fmt.Sprintf("ours: %d workers × %d thread(s), all clips at once; best baseline: %s, %.1f frames/s "+
				"(%s %.1f); vs it, counts equal on %d of %d common frames, box F1 %.3f, frames only one side %d; "+
				"concurrency changed the detections of %d frame(s) over %d round(s). "+
				"One clip at a time with one inference thread ÷ %s: decode ∥ infer %.2f×, one loop %.2f× "+
				"(detection counts equal on %d of %d, box F1 %.3f)",
				p.Workers, p.Threads, best.Name, best.FramesPerSec, other(p, best).Name, other(p, best).FramesPerSec,
				c.CountsEqual, c.Frames, c.BoxF1, c.OnlyOurs+c.OnlyBaseline, p.CamerasDiffering, p.Rounds,
				p.Baseline.Name, p.Ours.FramesPerSec/p.Baseline.FramesPerSec, p.OursSequential.FramesPerSec/p.Baseline.FramesPerSec,
				a.CountsEqual, a.Frames, a.BoxF1),
		}
		r.Met = r.Value >= TargetPeer
		out = append(out, r)
	}
	for _, a := range rep.Allocs {
		out = append(out, Ratio{
			Name:   "allocations per frame, " + a.Stage,
			Value:  float64(a.AllocsPerFrame),
			Target: "0",
			Met:    a.AllocsPerFrame == 0,
			Note:   fmt.Sprintf("%d B/frame, testing.Benchmark over %d frames", a.BytesPerFrame, a.Frames),
		})
	}
	return out
}

// other returns the baseline variant that is not b.
func other(p *PeerResult, b OfflineResult) OfflineResult {
	if b.Name == p.Baseline.Name {
		return p.BaselineDefault
	}
	return p.Baseline
}

// saturated returns the full-path run where every frame was sampled.
func (r *Report) saturated() (LiveResult, bool) {
	for _, l := range r.Live {
		if l.FPS == 0 {
			return l, true
		}
	}
	return LiveResult{}, false
}

// raw returns the inference result of a kind for sessions sessions of threads.
func (r *Report) raw(kind string, threads, sessions int) (InferenceResult, bool) {
	for _, in := range r.Inference {
		if in.Kind == kind && in.Threads == threads && in.Sessions == sessions {
			return in, true
		}
	}
	return InferenceResult{}, false
}

// WriteTable prints the report as aligned text tables.
func (r *Report) WriteTable(w io.Writer) {
	mode := "full"
	if r.Quick {
		mode = "quick (indicative only)"
	}
	fmt.Fprintf(w, "matthan bench, %s run, %s, %s\n", mode, r.Started.Format(time.RFC3339), r.Duration.Round(time.Second))
	fmt.Fprintf(w, "host: %d CPUs (%s), load %s at start, %s, cpu policy %s; model %s; %d worker(s) × %d intra-op thread(s); camsim %s\n\n",
		r.Host.CPUs, r.Host.CPUModel, r.Host.Load1, r.Host.GoVersion, r.Host.CPUPolicy, r.Model, r.Workers, r.Threads, r.Camsim)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "(a) inference, one preprocessed tensor in a loop\tframes/s\tms/frame\truns\t")
	for _, in := range r.Inference {
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t%d\t\n", in.Name, in.FramesPerSec, in.MsPerFrame, in.Runs)
	}
	tw.Flush()
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "(b) decode, 1 thread, packets in memory\tsize\tmode\tframes/s\tAUs/s\t")
	for _, d := range r.Decode {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.0f\t\n", d.Clip, d.Size, d.Mode, d.FramesPerSec, d.AUsPerSec)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "allocations per frame (testing.Benchmark)\tallocs\tbytes\tns/frame\tnote\t")
	for _, a := range r.Allocs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", a.Stage, a.AllocsPerFrame, a.BytesPerFrame, a.NsPerFrame, a.Note)
	}
	tw.Flush()
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "(c) full path: camsim → RTSP → Source → Pipeline\tlive\tasked/s\tanalysed/s\tCPU s/frame\tp50 ms\tp99 ms\tdrops\twindow s\t")
	for _, l := range r.Live {
		fmt.Fprintf(tw, "%s\t%d/%d\t%.1f\t%.1f\t%.4f\t%.1f\t%.1f\t%d\t%.0f\t\n", l.Name, l.Live, l.Cameras,
			l.DemandPerSec, l.FramesPerSec, l.CPUPerFrame, l.P50Ms, l.P99Ms, l.Drops, l.Seconds)
	}
	tw.Flush()
	fmt.Fprintln(w)

	if p := r.Peer; p != nil {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		span := "whole clips"
		if p.MaxSeconds > 0 {
			span = fmt.Sprintf("first %gs of each clip", p.MaxSeconds)
		}
		fmt.Fprintf(tw, "(d) %d clips, %s, %g fps sampled, median of %d round(s)\tinference\tframes\tdecoded\tframes/s\tCPU s/frame\tdetections\t\n",
			len(p.Clips), span, p.FPS, p.Rounds)
		ours := fmt.Sprintf("%d×%d threads", p.Workers, p.Threads)
		one := fmt.Sprintf("1×%d, 1 busy", p.Threads)
		for _, row := range []struct {
			o       OfflineResult
			threads string
		}{
			{p.Cameras, ours}, {p.Ours, one}, {p.OursSequential, one},
			{p.Baseline, fmt.Sprintf("%d intra-op", p.Threads)}, {p.BaselineDefault, "ORT default"},
		} {
			o := row.o
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%.4f\t%d\t\n", o.Name, row.threads, o.Frames, o.Decoded, o.FramesPerSec, o.CPUPerFrame, o.Detections)
		}
		tw.Flush()
		for _, ag := range []struct {
			what string
			a    Agreement
		}{
			{fmt.Sprintf("%s vs %s", p.Cameras.Name, p.BestBaseline), p.CamerasAgreement},
			{fmt.Sprintf("%s vs %s", p.Ours.Name, p.Baseline.Name), p.Agreement},
		} {
			a := ag.a
			fmt.Fprintf(w, "agreement, %s, on %d common frames: counts equal on %d (%.1f%%), boxes %d ours / %d baseline / %d matched (F1 %.3f); "+
				"frames only ours %d, only baseline %d\n",
				ag.what, a.Frames, a.CountsEqual, 100*a.CountsEqualFrac, a.OursBoxes, a.BaselineBoxes, a.MatchedBoxes, a.BoxF1,
				a.OnlyOurs, a.OnlyBaseline)
		}
		fmt.Fprintf(w, "clips as cameras vs one clip at a time: %d frame(s) with other detections over %d round(s)\n",
			p.CamerasDiffering, p.Rounds)
		fmt.Fprintf(w, "baseline: %s\n\n", versions(p.Versions))
	}

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "targets\tvalue\ttarget\tmet\tnote")
	for _, t := range r.Ratios {
		met := "no"
		if t.Met {
			met = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, fmtRatio(t.Value), t.Target, met, t.Note)
	}
	tw.Flush()
}

func fmtRatio(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e6 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func versions(v map[string]string) string {
	s := ""
	for _, k := range []string{"python", "opencv", "onnxruntime", "numpy"} {
		if v[k] != "" {
			s += fmt.Sprintf("%s %s  ", k, v[k])
		}
	}
	return s
}

// WriteFiles writes results.json, results.txt and results.png into dir.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: results folder: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ResultsJSON), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: write results: %w", err)
	}
	var table bytes.Buffer
	r.WriteTable(&table)
	if err := os.WriteFile(filepath.Join(dir, ResultsText), table.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: write results: %w", err)
	}
	if err := r.WriteChart(filepath.Join(dir, ResultsPNG)); err != nil {
		return err
	}
	return nil
}

// round rounds v to the given decimals, for logs.
func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}
