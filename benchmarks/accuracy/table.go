package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the results for a person: counts, people and smoke, one
// row per clip, rate and line direction.
func WriteTable(w io.Writer, results []ClipResult) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNTS\nclip\tfps\tline\tdir\ttruth\t(+uncertain)\tcounted\terror\ttarget\tmatched\tmissed\textra\tunconfirmed\tresult")
	for _, r := range results {
		for _, c := range r.Counts {
			errText := "n/a"
			if c.ErrorPct != nil {
				errText = fmt.Sprintf("%+.1f%%", *c.ErrorPct)
			}
			result := "pass"
			if !c.Pass {
				result = "MISS"
			}
			if c.Direction == "total" {
				result = "(total)"
			}
			extra := fmt.Sprint(c.Extra)
			if c.ExtraUncertain > 0 {
				extra += fmt.Sprintf(" (+%d uncertain)", c.ExtraUncertain)
			}
			fmt.Fprintf(tw, "%s\t%g\t%s\t%s\t%d\t%d\t%d\t%s\t≤%g%%\t%d\t%d\t%s\t%d\t%s\n",
				short(r.Clip), r.FPS, c.Line, c.Direction, c.Truth, c.TruthUncertain, c.Counted, errText,
				c.TargetPct, c.Matched, c.Missed, extra, r.UnconfirmedCounts, result)
		}
	}
	fmt.Fprintln(tw, "\nPEOPLE\nclip\tfps\tzone\tsamples\tmean truth\tmean counted\tMAE\tin [min,max]")
	for _, r := range results {
		for _, p := range r.People {
			fmt.Fprintf(tw, "%s\t%g\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.0f%%\n",
				short(r.Clip), r.FPS, p.Zone, p.Samples, p.MeanTruth, p.MeanCounted, p.MAE, 100*p.InRange)
		}
	}
	fmt.Fprintln(tw, "\nSMOKE AND FIRE\nclip\tsampled\tsmoke\tfire\tsmoke delay\tfire delay\tfalse alerts\tresult")
	for _, r := range results {
		s := r.Smoke
		if s == nil {
			continue
		}
		sampled := fmt.Sprintf("%g fps", r.FPS)
		if r.StillsS > 0 {
			sampled = fmt.Sprintf("stills %gs", r.StillsS)
		}
		if !s.Available {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tnot available (no smoke/fire analytic in matthan analyze)\t\t\t\n",
				short(r.Clip), sampled, present(s.SmokePresent), present(s.FirePresent))
			continue
		}
		result := "pass"
		if !s.Pass {
			result = "MISS"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", short(r.Clip), sampled, present(s.SmokePresent),
			present(s.FirePresent), delay(s.SmokePresent, s.SmokeDelayS), delay(s.FirePresent, s.FireDelayS), s.FalseAlerts, result)
	}
	tw.Flush()
}

func short(clip string) string { return strings.TrimSuffix(clip, ".mp4") }

func present(b bool) string {
	if b {
		return "present"
	}
	return "none"
}

func delay(present bool, d *float64) string {
	switch {
	case !present:
		return "-"
	case d == nil:
		return "no alert"
	}
	return fmt.Sprintf("%.1f s", *d)
}
