package models_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matthan/matthan/models"
)

// TestSchedulerCollector runs real frames through two schedulers of
// different models registered side by side and checks what a scrape shows
// against what was asked of them.
func TestSchedulerCollector(t *testing.T) {
	m := yoloxManifest(t)
	fire, err := models.Zoo("firesmoke_416")
	if err != nil {
		t.Fatal(err)
	}
	one := models.SchedulerOptions{Workers: 1, Session: models.SessionOptions{IntraOpThreads: 1}}
	s := newScheduler(t, m, modelsDir(t), one)
	fs := newScheduler(t, fire, modelsDir(t), one)
	reg := prometheus.NewRegistry()
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(fs.Collector()); err != nil {
		t.Fatalf("a second model's collector: %v", err)
	}

	const frames = 5
	f := realTensors(t, m.Input)[0]
	for range frames {
		if _, err := s.Detect(f.input, f.lb, f.fw, f.fh); err != nil {
			t.Fatal(err)
		}
	}
	got := scrape(t, reg)
	for _, tt := range []struct {
		model, metric string
		want          float64
	}{
		{m.Name, "matthan_scheduler_workers", 1},
		{m.Name, "matthan_scheduler_queued_requests", 0},
		{m.Name, "matthan_scheduler_requests_total", frames},
		{m.Name, "matthan_scheduler_runs_total", frames},
		{m.Name, "matthan_scheduler_errors_total", 0},
		{fire.Name, "matthan_scheduler_requests_total", 0},
		{fire.Name, "matthan_scheduler_busy_seconds_total", 0},
	} {
		if v, ok := got[tt.model][tt.metric]; !ok || v != tt.want {
			t.Errorf("%s{model=%q} = %v (present %v), want %v", tt.metric, tt.model, v, ok, tt.want)
		}
	}
	busy, cpu := got[m.Name]["matthan_scheduler_busy_seconds_total"], got[m.Name]["matthan_scheduler_cpu_seconds_total"]
	if busy <= 0 || cpu <= 0 || cpu > 1.2*busy {
		t.Errorf("busy %.4f s, CPU %.4f s for %d inferences: want both positive, CPU not above busy", busy, cpu, frames)
	}
}

// scrape gathers reg and returns each metric's value by model label.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			model := ""
			for _, l := range mt.GetLabel() {
				if l.GetName() == "model" {
					model = l.GetValue()
				}
			}
			if out[model] == nil {
				out[model] = map[string]float64{}
			}
			v := mt.GetGauge().GetValue() + mt.GetCounter().GetValue()
			out[model][mf.GetName()] = v
		}
	}
	return out
}
