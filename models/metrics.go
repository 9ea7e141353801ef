package models

import "github.com/prometheus/client_golang/prometheus"

// schedulerCollector shows a Scheduler's counters to Prometheus, read
// from Stats at each scrape (nothing on the inference path).
type schedulerCollector struct {
	s                                                  *Scheduler
	workers, queued, requests, errors, runs, busy, cpu *prometheus.Desc
}

// Collector returns a Prometheus collector of the scheduler's counters,
// labelled with its model's name: how many workers serve it, how many
// requests wait, the requests, errors and inferences so far, and the time
// the workers were busy and the CPU time their inferences used. Busy time
// per second over the workers is how saturated the node's inference is;
// CPU over busy time is the share of it the workers had a core (less than
// 1 when other work competes for the cores). Register it once.
func (s *Scheduler) Collector() prometheus.Collector {
	model := prometheus.Labels{"model": s.mod.m.Name}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("matthan_scheduler_"+name, help, nil, model)
	}
	return &schedulerCollector{
		s:        s,
		workers:  desc("workers", "Sessions running inferences in parallel for the model."),
		queued:   desc("queued_requests", "Detect requests waiting for a worker."),
		requests: desc("requests_total", "Detect requests answered, errors included."),
		errors:   desc("errors_total", "Detect requests that failed."),
		runs:     desc("runs_total", "Inferences run (one per batch)."),
		busy:     desc("busy_seconds_total", "Time the workers spent running inferences and decoding their outputs."),
		cpu:      desc("cpu_seconds_total", "CPU time of the workers' threads during the inferences (nearly all of them measured)."),
	}
}

func (c *schedulerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.workers, c.queued, c.requests, c.errors, c.runs, c.busy, c.cpu} {
		ch <- d
	}
}

func (c *schedulerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.workers, float64(st.Workers))
	gauge(c.queued, float64(st.Waiting))
	counter(c.requests, float64(st.Requests))
	counter(c.errors, float64(st.Errors))
	counter(c.runs, float64(st.Runs))
	counter(c.busy, st.Busy.Seconds())
	counter(c.cpu, st.CPU.Seconds())
}
