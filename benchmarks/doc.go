// Package benchmarks is matthan's benchmark harness: it measures, in one run
// on the shared footage, how close the frame path comes to the limits of the
// hardware and how it compares with what a user would write instead.
//
// Run measures, in this order:
//
//   - the raw ONNX Runtime rate of the detector (one session with 1 and 2
//     intra-op threads, and as many 1-thread sessions in parallel as the
//     scheduler runs), looping session.Run on one preprocessed tensor of a
//     real frame; and the rate of models.Scheduler.Detect on that tensor
//     (inference + output decoding + NMS);
//   - the raw libavcodec decode rate of every clip (ingest/decode Demuxer and
//     Decoder, packets read beforehand), every frame and keyframes only;
//   - allocations per frame in decode, conversion and preprocessing, with
//     testing.Benchmark and ReportAllocs;
//   - the full frame path: the camera simulator serving the clips over
//     loopback RTSP, one ingest.Source and one analyzer.Pipeline per camera,
//     sharing one models.Scheduler, for 1, 4 and 16 cameras at 5 fps each and
//     for a saturated run where every decoded frame is sampled, reporting
//     frames analysed per second, process CPU seconds per analysed frame,
//     p50/p99 latency from capture to detections, and drops;
//   - the same footage through our components offline (files decoded as fast
//     as possible, sampled at the same rate): all clips at once as cameras
//     sharing the scheduler, as the engine runs, and one clip at a time; and
//     through the Python peer baseline (baseline/peer_baseline.py: OpenCV +
//     ONNX Runtime from PyPI), run as a subprocess with 1 intra-op thread and
//     with ONNX Runtime's default threading, with the agreement of the
//     detections on the same frames.
//
// From these it computes the ratios the project targets (full path ÷ raw
// inference, ours as cameras ÷ the faster baseline, allocations per frame)
// and writes a table, a JSON report and a PNG chart. Numbers are what was
// measured; a missed target is reported as missed, with the reason where the
// run shows one.
package benchmarks
