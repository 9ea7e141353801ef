// Package cpusched puts the process under Linux's SCHED_BATCH scheduling
// policy, as matthan run and matthan bench do unless told otherwise.
//
// An analysis node is a throughput workload: two inference workers keep
// the cores busy while each camera's goroutines wake every few
// milliseconds to take an access unit, decode a picture or hand a frame
// on. Under the default policy each wake-up may preempt an inference
// midway, and the caches the inference had filled are refilled after. Under
// SCHED_BATCH, which shares the cores just as fairly but does not preempt
// on wake-up, the benchmark's full path spent 5–10 % less CPU per analysed
// frame (two runs of each policy, back to back; benchmarks/README.md). Wake-up latency grows by at most a
// scheduler tick (a few milliseconds), which the analysis does not notice.
//
// Unprivileged processes may switch to SCHED_BATCH (sched(7)). The policy
// is per thread and inherited by the threads a thread starts, so Batch
// switches every thread the process has and threads started later follow.
package cpusched
