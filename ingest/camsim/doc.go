// Package camsim is a camera simulator: an RTSP server that plays video files
// in a loop at real-time pace, the way an IP camera streams its live view.
//
// Each file is one stream, rtsp://HOST:PORT/NAME, where NAME is the file name
// up to its first dot (traffic.h264.mp4 is served as /traffic). Like a camera,
// the simulator announces H.264 or H.265 with the parameter sets in the SDP,
// repeats them in-band before every keyframe, stamps RTP with the file's
// presentation times (continuing across loops, never going back), paces
// packets on decoding times against the wall clock, and sends RTCP sender
// reports that tie RTP time to the wall-clock capture time. Files in other
// codecs are refused when the server starts.
//
// The demo runs it as `matthan camsim`; tests start a Server on a free
// loopback port, and stop and start it again to simulate a camera going
// away, or Pause a stream to simulate a camera that stays connected but
// stops sending. Picture faults keep the stream going: Freeze repeats the
// last keyframe (a frozen picture), Black sends a black picture encoded
// with ffmpeg (a covered lens), and Normal goes back to the file.
package camsim
