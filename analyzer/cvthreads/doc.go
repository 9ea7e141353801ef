// Package cvthreads sets how many threads OpenCV (through GoCV) may use
// inside one call. matthan runs OpenCV serially: its parallelism comes from
// the cameras, each on its own goroutines, and the ONNX Runtime workers
// already fill the cores. OpenCV's own pool (TBB in Debian's build) would
// split a resize into stripes for threads that must then wait for a core
// the inference holds, and spins between calls: letterboxing a 640×480
// frame took about 1.5 times the CPU of the serial call, at no saving of
// wall time under load (BenchmarkPreprocessor with and without).
//
// It is the one place with cgo of its own for OpenCV (GoCV does not wrap
// cv::setNumThreads).
package cvthreads
