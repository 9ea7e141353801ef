package analyzer

import (
	"log/slog"
	"time"
)

// errorSummary turns a storm of per-frame errors into at most one log line
// per interval, with the count and the last error. The first error of a
// storm is logged at once.
type errorSummary struct {
	log      *slog.Logger
	msg      string
	interval time.Duration
	count    int
	last     error
	since    time.Time // start of the current interval; zero when quiet
}

func newErrorSummary(log *slog.Logger, msg string, interval time.Duration) *errorSummary {
	return &errorSummary{log: log, msg: msg, interval: interval}
}

func (s *errorSummary) add(err error) {
	if s.since.IsZero() {
		s.log.Warn(s.msg, "error", err)
		s.since = time.Now()
		return
	}
	s.count++
	s.last = err
	if time.Since(s.since) >= s.interval {
		s.flush()
	}
}

// flush logs what was counted since the last line and starts a quiet period.
func (s *errorSummary) flush() {
	if s.count > 0 {
		s.log.Warn(s.msg, "count", s.count, "last", s.last, "over", time.Since(s.since).Round(time.Second))
	}
	s.count = 0
	s.since = time.Time{}
}
