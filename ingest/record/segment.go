package record

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4"

	"github.com/matthan/matthan/ingest"
)

// timeScale is the track time scale: 90 kHz, the RTP video clock, so stream
// timestamps convert without loss of precision that matters.
const timeScale = 90000

// maxNameCollisions bounds the search for a free segment name when files
// with the same start second already exist.
const maxNameCollisions = 1000

// segmentFile is one segment being written: its file, the samples of the
// part not yet written, and what the index will record about it.
type segmentFile struct {
	file *os.File
	rel  string // path relative to the camera directory, slash separated
	hash hash.Hash
	size int64

	start    time.Time // capture time of the first sample
	firstDTS int64     // stream DTS of the first sample, in timeScale ticks
	firstPTS int64     // stream PTS of the first sample, in timeScale ticks
	seq      uint32    // sequence number of the last part written
	frames   int       // samples written or pending in part
	endPTS   int64     // max over samples of PTS+duration, relative to firstPTS

	part       []*fmp4.Sample
	partBase   int64     // DTS of part[0] relative to firstDTS
	partOpened time.Time // wall time part[0] was added

	flushed int // samples in parts already written

	// testHookPartWrite, when set, is called between the two halves of
	// each part write with the samples in the complete parts before it
	// (tests copy the file there to simulate a crash).
	testHookPartWrite func(path string, framesDone int)
}

// segmentInit returns the encoded init section (ftyp+moov) for params.
func segmentInit(p *ingest.StreamParams) ([]byte, error) {
	var codec mp4.Codec
	switch p.Codec {
	case ingest.H264:
		if len(p.SPS) == 0 || len(p.PPS) == 0 {
			return nil, fmt.Errorf("%w: H.264 needs SPS and PPS", ErrInvalidParams)
		}
		codec = &mp4.CodecH264{SPS: p.SPS, PPS: p.PPS}
	case ingest.H265:
		if len(p.VPS) == 0 || len(p.SPS) == 0 || len(p.PPS) == 0 {
			return nil, fmt.Errorf("%w: H.265 needs VPS, SPS and PPS", ErrInvalidParams)
		}
		codec = &mp4.CodecH265{VPS: p.VPS, SPS: p.SPS, PPS: p.PPS}
	default:
		return nil, fmt.Errorf("%w: %q (want H264 or H265)", ErrUnsupportedCodec, p.Codec)
	}
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: 1, TimeScale: timeScale, Codec: codec}}}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		// The marshaller parses the SPS for the picture size.
		return nil, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	return buf.Bytes(), nil
}

// createSegment creates the next free segment file for a segment starting
// at capture time start under camDir, writes init to it and syncs it.
func createSegment(camDir string, start time.Time, init []byte) (*segmentFile, error) {
	start = start.UTC()
	day := start.Format("2006-01-02")
	dir := filepath.Join(camDir, day)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	base := start.Format("15-04-05")
	var (
		f    *os.File
		name string
		err  error
	)
	for i := 0; i < maxNameCollisions; i++ {
		name = base + ".mp4"
		if i > 0 {
			name = base + "_" + strconv.Itoa(i) + ".mp4"
		}
		f, err = os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	s := &segmentFile{file: f, rel: path.Join(day, name), hash: sha256.New(), start: start}
	err = syncDir(dir)
	if err == nil {
		err = writeOpen(camDir, s.rel, start)
	}
	if err == nil {
		err = s.write(init)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name()) // holds no video
		return nil, fmt.Errorf("create segment %s: %w", s.rel, err)
	}
	return s, nil
}

// write appends b to the file and the hash, then syncs the file.
func (s *segmentFile) write(b []byte) error {
	n, err := s.file.Write(b)
	s.hash.Write(b[:n])
	s.size += int64(n)
	if err != nil {
		return err
	}
	return s.file.Sync()
}

// add appends a sample to the current part. dts and pts are stream
// timestamps in ticks; the first sample added sets the segment's origin.
func (s *segmentFile) add(dts, pts int64, duration uint32, keyframe bool, payload []byte) {
	if s.frames == 0 {
		s.firstDTS, s.firstPTS = dts, pts
	}
	relDTS := dts - s.firstDTS
	relPTS := pts - s.firstPTS
	if len(s.part) == 0 {
		s.partBase = relDTS
		s.partOpened = time.Now()
	}
	s.part = append(s.part, &fmp4.Sample{
		Duration:        duration,
		PTSOffset:       int32(pts - dts),
		IsNonSyncSample: !keyframe,
		Payload:         payload,
	})
	s.frames++
	s.endPTS = max(s.endPTS, relPTS+int64(duration))
}

// partLength is how much media time the pending part would span if the
// next sample had stream DTS nextDTS.
func (s *segmentFile) partLength(nextDTS int64) int64 {
	return nextDTS - s.firstDTS - s.partBase
}

// flush writes the pending part as moof+mdat and syncs it. It returns the
// number of bytes written.
func (s *segmentFile) flush() (int, error) {
	if len(s.part) == 0 {
		return 0, nil
	}
	s.seq++
	p := fmp4.Part{
		SequenceNumber: s.seq,
		Tracks:         []*fmp4.PartTrack{{ID: 1, BaseTime: uint64(s.partBase), Samples: s.part}},
	}
	var buf seekablebuffer.Buffer
	if err := p.Marshal(&buf); err != nil {
		return 0, fmt.Errorf("write part %d of %s: %w", s.seq, s.rel, err)
	}
	b := buf.Bytes()
	if s.testHookPartWrite != nil {
		half := len(b) / 2
		if _, err := s.file.Write(b[:half]); err != nil {
			return 0, fmt.Errorf("write part %d of %s: %w", s.seq, s.rel, err)
		}
		s.testHookPartWrite(s.file.Name(), s.flushed)
		s.hash.Write(b[:half])
		s.size += int64(half)
		b = b[half:]
	}
	if err := s.write(b); err != nil {
		return 0, fmt.Errorf("write part %d of %s: %w", s.seq, s.rel, err)
	}
	s.flushed += len(s.part)
	s.part = s.part[:0]
	return len(buf.Bytes()), nil
}

// close closes the file and returns its index record.
func (s *segmentFile) close(camera, reason string) (Segment, error) {
	err := s.file.Close()
	dur := time.Duration(s.endPTS) * time.Second / timeScale
	seg := Segment{
		Camera:    camera,
		Path:      s.rel,
		Start:     s.start.Truncate(time.Millisecond),
		Size:      s.size,
		SHA256:    hex.EncodeToString(s.hash.Sum(nil)),
		Frames:    s.frames,
		EndReason: reason,
	}
	seg.End = s.start.Add(dur).Truncate(time.Millisecond)
	seg.Duration = seg.End.Sub(seg.Start)
	if err != nil {
		return seg, fmt.Errorf("close segment %s: %w", s.rel, err)
	}
	return seg, nil
}

// abandon closes the file after a failure, keeping what was written.
func (s *segmentFile) abandon() { s.file.Close() }

// syncDir syncs a directory so a file created in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// toTicks converts a duration to timeScale ticks, rounding to nearest.
func toTicks(d time.Duration) int64 {
	n := d.Nanoseconds() * (timeScale / 10000) // ns*90000/1e9 = (ns*9)/1e5, without overflow
	if n >= 0 {
		return (n + 50000) / 100000
	}
	return -((-n + 50000) / 100000)
}

// fromTicks converts timeScale ticks to a duration.
func fromTicks(t int64) time.Duration {
	return time.Duration(t) * time.Second / timeScale
}
