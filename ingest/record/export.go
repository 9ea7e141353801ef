package record

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"
)

// Errors of clip export. (They belong in errors.go; they sit here while
// another change to that file is under way.)

// MaxClipSpan is the longest range Export accepts. A hole in the recording
// is held on screen as one long sample, and an MP4 sample lasts at most
// 2^32 ticks of the 90 kHz clock (13.25 h).
const MaxClipSpan = 12 * time.Hour

// ManifestSuffix is appended to a clip's path to name its manifest.
const ManifestSuffix = ".manifest.json"

// ManifestSchema names the format of the manifest; it changes when a field
// changes meaning.
const ManifestSchema = "matthan.clip/1"

// maxClipPayload bounds the media bytes of a clip: the progressive MP4
// writer stores 32-bit sizes and chunk offsets, and 64 MiB stay free for
// the ftyp and moov boxes before the media.
const maxClipPayload = math.MaxUint32 - 64<<20

// exportBuffer is the write buffer of Export: samples are small writes.
const exportBuffer = 1 << 20

// Clip describes an exported clip. Export writes it, as JSON, beside the
// clip as its manifest: with the segment hashes from the index, anyone can
// check that the clip was cut from the recorded evidence.
type Clip struct {
	// Schema is ManifestSchema.
	Schema string `json:"schema"`
	// Camera is the camera id.
	Camera string `json:"camera"`
	// File is the clip's file name, without its folder; empty when the
	// clip was written to a stream (WriteClip).
	File string `json:"file,omitempty"`
	// From and To are the requested range, UTC.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Start is the capture time of the first picture: the keyframe at or
	// before From (pre-roll), or the first keyframe recorded after From.
	Start time.Time `json:"start"`
	// End is the capture time at which the last picture stops being shown:
	// at or after To, unless the recording stops before To.
	End time.Time `json:"end"`
	// Frames is the number of pictures in the clip.
	Frames int `json:"frames"`
	// Size is the clip's size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex sha256 of the clip file.
	SHA256 string `json:"sha256"`
	// Sources are the segments the clip was cut from, in order.
	Sources []ClipSource `json:"sources"`
	// Gaps are the parts of [From, To] with no recording, in order. The
	// clip holds the last picture before a gap on screen until recording
	// resumes, so clip time stays capture time minus Start.
	Gaps []ClipGap `json:"gaps"`
	// Created is when the clip was written, UTC.
	Created time.Time `json:"created"`
}

// Duration is how long the clip plays.
func (c Clip) Duration() time.Duration { return c.End.Sub(c.Start) }

// ClipSource is a segment a clip was cut from.
type ClipSource struct {
	// Path is the segment file relative to the camera's folder, as in the
	// index.
	Path string `json:"path"`
	// Start and End are the segment's range as the index records it. For
	// a segment still being written, Start comes from the end of the
	// segment before it or, failing that, from the file name (to the
	// second), and End is the end of its last complete part.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Size and SHA256 are the segment's size and hex sha256 as the index
	// records them (Export checked the file against them). For a segment
	// still being written they cover the complete parts read.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Open says the segment was still being written (not yet indexed).
	Open bool `json:"open,omitempty"`
	// Frames is the number of the clip's pictures taken from the segment.
	Frames int `json:"frames"`
}

// ClipGap is an interval of a clip's requested range with no recording.
type ClipGap struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Export cuts the range [from, to] of camera's recording under root into
// one progressive MP4 file at out (moov before mdat, so browsers play it
// while it downloads) and writes its manifest, the returned Clip, to
// out+ManifestSuffix. It refuses to overwrite either file. The clip starts
// at the keyframe at or before from and covers to; segments joined in the
// clip keep continuous timestamps, and a hole in the recording is held on
// screen and listed in Clip.Gaps. A segment still being written is read up
// to its last complete part. Export fails with ErrUnknownCamera,
// ErrInvalidRange, ErrNoRecording, ErrParamsChange, ErrSegmentChanged,
// ErrCorruptSegment or ErrClipTooLarge as the case may be.
func Export(ctx context.Context, root, camera string, from, to time.Time, out string) (Clip, error) {
	clip, err := exportFile(ctx, root, camera, from, to, out)
	if err != nil {
		return Clip{}, fmt.Errorf("export clip: %w", err)
	}
	return clip, nil
}

// WriteClip writes the clip Export would write to w and returns its
// description, without a File name; it writes no manifest. What was
// written to w before an error is not a playable file.
func WriteClip(ctx context.Context, w io.Writer, root, camera string, from, to time.Time) (Clip, error) {
	clip, err := writeClip(ctx, w, root, camera, from, to)
	if err != nil {
		return Clip{}, fmt.Errorf("export clip: %w", err)
	}
	return clip, nil
}

// exportFile is Export without the error context.
func exportFile(ctx context.Context, root, camera string, from, to time.Time, out string) (_ Clip, err error) {
	if out == "" {
		return Clip{}, errors.New("no output file given")
	}
	manifest := out + ManifestSuffix
	for _, p := range []string{out, manifest} {
		if _, err := os.Lstat(p); err == nil {
			return Clip{}, fmt.Errorf("%s: %w", p, fs.ErrExist)
		}
	}
	dir := filepath.Dir(out)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return Clip{}, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, exportBuffer)
	clip, err := writeClip(ctx, bw, root, camera, from, to)
	if err != nil {
		return Clip{}, err
	}
	clip.File = filepath.Base(out)
	if err := bw.Flush(); err != nil {
		return Clip{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Clip{}, err
	}
	if err := tmp.Close(); err != nil {
		return Clip{}, err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return Clip{}, err
	}
	b, err := json.MarshalIndent(clip, "", "  ")
	if err != nil {
		return Clip{}, err
	}
	if err := writeFileSynced(manifest, append(b, '\n')); err != nil {
		return Clip{}, err
	}
	if err := syncDir(dir); err != nil {
		return Clip{}, err
	}
	return clip, nil
}

// writeFileSynced writes a new file name holding b and syncs it.
func writeFileSynced(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

// writeClip is WriteClip without the error context.
func writeClip(ctx context.Context, w io.Writer, root, camera string, from, to time.Time) (Clip, error) {
	if err := checkCameraID(camera); err != nil {
		return Clip{}, err
	}
	from, to = from.UTC(), to.UTC()
	switch {
	case from.IsZero() || to.IsZero():
		return Clip{}, fmt.Errorf("%w: from and to must both be set", ErrInvalidRange)
	case !to.After(from):
		return Clip{}, fmt.Errorf("%w: to %s is not after from %s", ErrInvalidRange, fmtTime(to), fmtTime(from))
	case to.Sub(from) > MaxClipSpan:
		return Clip{}, fmt.Errorf("%w: %v from %s to %s is longer than the %v a clip may span",
			ErrInvalidRange, to.Sub(from), fmtTime(from), fmtTime(to), MaxClipSpan)
	}
	created := time.Now().UTC()
	p, err := planClip(ctx, root, camera, from, to)
	if err != nil {
		return Clip{}, err
	}

	rd := &payloadReader{ctx: ctx, paths: p.paths, cur: -1}
	defer rd.close()
	samples := make([]*pmp4.Sample, len(p.samples))
	for i, s := range p.samples {
		samples[i] = &pmp4.Sample{
			Duration:        s.dur,
			PTSOffset:       s.ptsOff - p.d0,
			IsNonSyncSample: !s.key,
			PayloadSize:     s.size,
			GetPayload:      func() ([]byte, error) { return rd.read(s) },
		}
	}
	// The composition offsets are shifted so that the first picture is
	// presented at 0 (with B-frames some become negative, as version 1 of
	// ctts allows): the writer's edit list then presents the media from 0
	// for the sum of the sample durations, which the last sample's
	// stretches to the end of the last picture shown.
	last := samples[len(samples)-1]
	last.Duration = uint32(max(int64(last.Duration), p.length-p.samples[len(p.samples)-1].dts))
	pres := pmp4.Presentation{Tracks: []*pmp4.Track{{
		ID:        1,
		TimeScale: timeScale,
		Codec:     p.codec,
		Samples:   samples,
	}}}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(w, h)}
	if err := pres.Marshal(cw); err != nil {
		return Clip{}, fmt.Errorf("write MP4: %w", err)
	}
	return Clip{
		Schema:  ManifestSchema,
		Camera:  camera,
		From:    from,
		To:      to,
		Start:   p.start,
		End:     p.end,
		Frames:  len(p.samples),
		Size:    cw.n,
		SHA256:  hex.EncodeToString(h.Sum(nil)),
		Sources: p.sources,
		Gaps:    p.gaps,
		Created: created,
	}, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// payloadReader reads the samples' payloads from their segment files, in
// order, keeping one file open at a time.
type payloadReader struct {
	ctx   context.Context
	paths []string
	cur   int
	f     *os.File
	buf   []byte
}

// read returns the payload of s; the slice is valid until the next call.
func (r *payloadReader) read(s clipSample) ([]byte, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	if s.src != r.cur {
		r.close()
		f, err := os.Open(r.paths[s.src])
		if err != nil {
			return nil, err
		}
		r.f, r.cur = f, s.src
	}
	if cap(r.buf) < int(s.size) {
		r.buf = make([]byte, s.size)
	}
	b := r.buf[:s.size]
	if _, err := r.f.ReadAt(b, s.offset); err != nil {
		return nil, fmt.Errorf("read %s at %d: %w", r.paths[s.src], s.offset, err)
	}
	return b, nil
}

// close closes the open file.
func (r *payloadReader) close() {
	if r.f != nil {
		r.f.Close()
		r.f, r.cur = nil, -1
	}
}

// clipPlan is what a clip is made of.
type clipPlan struct {
	codec      mp4.Codec
	samples    []clipSample
	d0         int32 // composition offset of the first sample
	length     int64 // presentation length, ticks
	start, end time.Time
	sources    []ClipSource
	paths      []string // the file of each source
	gaps       []ClipGap
}

// clipSample is a sample of the clip and where its payload is.
type clipSample struct {
	src    int    // index in clipPlan.sources
	offset int64  // of the payload in the source file
	size   uint32 // of the payload
	dts    int64  // decode time in the clip, ticks
	dur    uint32 // in the clip: the recorded duration, plus a gap held on screen after it
	recDur uint32 // as recorded
	ptsOff int32
	key    bool
	shown  time.Time // capture time at which it is presented
}

// pts is the sample's presentation time in the clip's media timeline.
func (s clipSample) pts() int64 { return s.dts + int64(s.ptsOff) }

// candidate is a segment that may hold part of the range.
type candidate struct {
	seg  Segment
	open bool // not yet indexed: End is unknown
}

// innerGap is a hole in the recording found while joining segments: it
// follows sample after of the plan.
type innerGap struct {
	after      int
	start, end time.Time
}

// planClip selects the samples of [from, to] and lays them on the clip's
// timeline.
func planClip(ctx context.Context, root, camera string, from, to time.Time) (*clipPlan, error) {
	camDir := filepath.Join(root, camera)
	if st, err := os.Stat(camDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w %q: no recordings folder %s", ErrUnknownCamera, camera, camDir)
	}
	// The newest file is listed before the index is read: the recorder
	// indexes a segment before it creates the next, so a segment closed
	// meanwhile is in the index even if the listing saw it open.
	newest, err := newestSegmentFile(camDir)
	if err != nil {
		return nil, err
	}
	segs, err := ReadIndex(root, camera)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	cands := make([]candidate, 0, len(segs)+1)
	indexed := false
	for _, s := range segs {
		indexed = indexed || s.Path == newest
		if s.End.After(from) && !s.Start.After(to) {
			cands = append(cands, candidate{seg: s})
		}
	}
	if newest != "" && !indexed {
		start, err := openSegmentStart(camDir, newest, segs)
		if err != nil {
			return nil, err
		}
		if !start.After(to) {
			cands = append(cands, candidate{seg: Segment{Camera: camera, Path: newest, Start: start}, open: true})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return a.seg.Start.Compare(b.seg.Start) })
	var inside int64 // bytes of the segments wholly inside the range: a clip bigger than this fails before reading them
	for _, c := range cands {
		if !c.open && !c.seg.Start.Before(from) && !c.seg.End.After(to) {
			inside += c.seg.Size
		}
	}
	if inside > maxClipPayload {
		return nil, fmt.Errorf("%w: more than %d bytes of video from %s to %s, more than an MP4 file with 32-bit offsets holds; export a shorter range",
			ErrClipTooLarge, inside, fmtTime(from), fmtTime(to))
	}

	p := &clipPlan{}
	var gaps []innerGap
	var prevShownEnd time.Time // when the last picture taken from the previous segment stops being shown
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file := filepath.Join(camDir, filepath.FromSlash(c.seg.Path))
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read segment: %w", err)
		}
		if !c.open { // checked before it is parsed: a changed file may not parse
			sum := sha256.Sum256(data)
			if hexSum := hex.EncodeToString(sum[:]); int64(len(data)) != c.seg.Size || hexSum != c.seg.SHA256 {
				return nil, fmt.Errorf("%w: %s has %d bytes with sha256 %s, the index records %d bytes with sha256 %s",
					ErrSegmentChanged, file, len(data), hexSum, c.seg.Size, c.seg.SHA256)
			}
		}
		m, err := parseSegment(data, file, c.open)
		if err != nil {
			return nil, err
		}
		if len(m.samples) == 0 {
			continue
		}
		// File presentation time t is capture time Start + t - origin
		// (see the package comment).
		origin := m.samples[0].dts + int64(m.samples[0].ptsOff)
		shown := func(s mediaSample) time.Time {
			return c.seg.Start.Add(tickDuration(s.dts + int64(s.ptsOff) - origin))
		}
		if c.open {
			var end int64
			for _, s := range m.samples {
				end = max(end, s.dts+int64(s.ptsOff)+int64(s.dur)-origin)
			}
			c.seg.End = c.seg.Start.Add(tickDuration(end))
			if !c.seg.End.After(from) {
				continue
			}
		}

		entry := -1
		var shift int64 // clip decode time = segment decode time + shift
		cut := false    // the clip starts, or restarts after a hole, at entry
		if len(p.samples) == 0 {
			// Pre-roll: the last keyframe shown at or before from, else
			// the first keyframe.
			for i, s := range m.samples {
				if !s.key {
					continue
				}
				if entry >= 0 && shown(s).After(from) {
					break
				}
				entry = i
			}
			if entry < 0 {
				return nil, fmt.Errorf("%w: %s has no keyframe", ErrCorruptSegment, file)
			}
			if shown(m.samples[entry]).After(to) {
				continue
			}
			p.codec, p.d0, p.start = m.codec, m.samples[entry].ptsOff, shown(m.samples[entry])
			shift, cut = -m.samples[entry].dts, true
		} else {
			if !sameCodec(p.codec, m.codec) {
				return nil, fmt.Errorf("%w: at %s (segment %s); export the parts before and after it separately",
					ErrParamsChange, fmtTime(c.seg.Start), c.seg.Path)
			}
			last := &p.samples[len(p.samples)-1]
			prevEnd := last.dts + int64(last.dur)
			tol := max(int64(last.dur)/2, toTicks(2*time.Millisecond))
			// where s would decode on the clip's timeline to be shown at
			// its capture time
			ideal := func(s mediaSample) int64 {
				return toTicks(shown(s).Sub(p.start)) - int64(s.ptsOff) + int64(p.d0)
			}
			for i, s := range m.samples {
				// A segment that overlaps what is already taken (a clock
				// set back) joins at its first keyframe after it.
				if s.key && ideal(s) >= prevEnd-tol {
					entry = i
					break
				}
			}
			if entry < 0 {
				continue
			}
			at := ideal(m.samples[entry])
			switch {
			case at > prevEnd+tol: // a hole: hold the last picture until recording resumes
				hold := at - last.dts
				if hold > math.MaxUint32 {
					return nil, fmt.Errorf("%w: a gap of %v from %s cannot be held in one MP4 sample",
						ErrClipTooLarge, shown(m.samples[entry]).Sub(prevShownEnd), fmtTime(prevShownEnd))
				}
				last.dur = uint32(hold)
				gaps = append(gaps, innerGap{after: len(p.samples) - 1, start: prevShownEnd, end: shown(m.samples[entry])})
				cut = true
			case entry > 0:
				cut = true
				fallthrough
			default: // continuous: keep the recorded durations exactly
				at = prevEnd
			}
			shift = at - m.samples[entry].dts
		}

		src := len(p.sources)
		entryPTS := m.samples[entry].dts + int64(m.samples[entry].ptsOff)
		taken := 0
		prevShownEnd = time.Time{}
		for i := entry; i < len(m.samples); i++ {
			s := m.samples[i]
			if s.key && i > entry {
				cut = false
			}
			if cut && s.dts+int64(s.ptsOff) < entryPTS {
				// A leading picture of an open GOP refers to pictures
				// before the entry keyframe, which the clip lacks.
				last := &p.samples[len(p.samples)-1]
				last.dur += s.dur
				last.recDur += s.dur
				continue
			}
			cs := clipSample{src: src, offset: s.offset, size: s.size, dts: s.dts + shift,
				dur: s.dur, recDur: s.dur, ptsOff: s.ptsOff, key: s.key, shown: shown(s)}
			p.samples = append(p.samples, cs)
			if e := cs.shown.Add(tickDuration(int64(s.dur))); e.After(prevShownEnd) {
				prevShownEnd = e
			}
			taken++
		}
		if taken > 0 {
			src := ClipSource{Path: c.seg.Path, Start: c.seg.Start, End: c.seg.End,
				Size: c.seg.Size, SHA256: c.seg.SHA256, Open: c.open}
			if c.open {
				src.Size, src.SHA256 = m.size, m.sha256
			}
			p.sources = append(p.sources, src)
			p.paths = append(p.paths, file)
		}
	}
	if len(p.samples) == 0 {
		return nil, fmt.Errorf("%w of camera %q from %s to %s", ErrNoRecording, camera, fmtTime(from), fmtTime(to))
	}
	p.cutAt(to)
	p.addGaps(from, to, gaps)

	var payload int64
	for _, s := range p.samples {
		payload += int64(s.size)
	}
	if payload > maxClipPayload {
		return nil, fmt.Errorf("%w: %d bytes of video from %s to %s, more than an MP4 file with 32-bit offsets holds; export a shorter range",
			ErrClipTooLarge, payload, fmtTime(from), fmtTime(to))
	}
	return p, nil
}

// cutAt drops the samples after the shortest decodable prefix that shows
// every picture up to to, and the gaps after it.
func (p *clipPlan) cutAt(to time.Time) {
	k := 0 // the first sample is shown at or before to (planClip made sure)
	for i, s := range p.samples {
		if !s.shown.After(to) {
			k = i
		}
	}
	// With B-frames a picture decoded up to k may be shown after pictures
	// decoded later; take those too, so the clip shows no hole at its end.
	maxPTS := int64(math.MinInt64)
	for _, s := range p.samples[:k+1] {
		maxPTS = max(maxPTS, s.pts())
	}
	for k+1 < len(p.samples) && p.samples[k+1].pts() < maxPTS {
		k++
	}
	p.samples = p.samples[:k+1]
	last := &p.samples[k]
	last.dur = last.recDur // a gap after the clip's last picture is not held
	var end int64
	for _, s := range p.samples {
		end = max(end, s.pts()+int64(s.dur)-int64(p.d0))
	}
	p.length = end
	p.end = p.start.Add(tickDuration(end))

	p.sources = p.sources[:last.src+1]
	p.paths = p.paths[:last.src+1]
	for i := range p.sources {
		p.sources[i].Frames = 0
	}
	for _, s := range p.samples {
		p.sources[s.src].Frames++
	}
}

// addGaps lists the parts of [from, to] the clip has no recording for:
// before its start, the holes between segments, and after its end.
func (p *clipPlan) addGaps(from, to time.Time, gaps []innerGap) {
	add := func(start, end time.Time) {
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if end.After(start) {
			p.gaps = append(p.gaps, ClipGap{Start: start, End: end})
		}
	}
	add(from, p.start)
	for _, g := range gaps {
		if g.after < len(p.samples)-1 {
			add(g.start, g.end)
		}
	}
	add(p.end, to)
	if p.gaps == nil {
		p.gaps = []ClipGap{}
	}
}

// sameCodec reports whether two track codecs have the same configuration.
func sameCodec(a, b mp4.Codec) bool {
	switch a := a.(type) {
	case *mp4.CodecH264:
		b, ok := b.(*mp4.CodecH264)
		return ok && bytes.Equal(a.SPS, b.SPS) && bytes.Equal(a.PPS, b.PPS)
	case *mp4.CodecH265:
		b, ok := b.(*mp4.CodecH265)
		return ok && bytes.Equal(a.VPS, b.VPS) && bytes.Equal(a.SPS, b.SPS) && bytes.Equal(a.PPS, b.PPS)
	}
	return false
}

// tickDuration converts ticks to a duration rounded to the microsecond, so
// that times in a manifest read as what they are (a 90 kHz tick is not a
// whole number of nanoseconds).
func tickDuration(t int64) time.Duration { return fromTicks(t).Round(time.Microsecond) }

// fmtTime formats t as the index does: UTC RFC 3339 with milliseconds.
func fmtTime(t time.Time) string { return t.UTC().Format(indexTimeLayout) }

// segmentName parses a segment file path relative to the camera folder,
// YYYY-MM-DD/HH-MM-SS[_N].mp4, into its start second and collision number.
func segmentName(rel string) (start time.Time, n int, ok bool) {
	day, name, found := strings.Cut(rel, "/")
	stem, isMP4 := strings.CutSuffix(name, ".mp4")
	if !found || !isMP4 {
		return time.Time{}, 0, false
	}
	if base, num, has := strings.Cut(stem, "_"); has {
		v, err := strconv.Atoi(num)
		if err != nil || v < 1 {
			return time.Time{}, 0, false
		}
		stem, n = base, v
	}
	t, err := time.Parse("2006-01-02/15-04-05", day+"/"+stem)
	if err != nil {
		return time.Time{}, 0, false
	}
	return t, n, true
}

// newestSegmentFile returns the path, relative to camDir, of the segment
// file with the latest name, or "" when there is none.
func newestSegmentFile(camDir string) (string, error) {
	days, err := os.ReadDir(camDir)
	if err != nil {
		return "", fmt.Errorf("list recordings: %w", err)
	}
	for i := len(days) - 1; i >= 0; i-- { // ReadDir sorts by name: newest day last
		d := days[i]
		if !d.IsDir() {
			continue
		}
		if _, err := time.Parse("2006-01-02", d.Name()); err != nil {
			continue
		}
		files, err := os.ReadDir(filepath.Join(camDir, d.Name()))
		if err != nil {
			return "", fmt.Errorf("list recordings: %w", err)
		}
		var (
			best  string
			bestT time.Time
			bestN int
		)
		for _, f := range files {
			rel := path.Join(d.Name(), f.Name())
			t, n, ok := segmentName(rel)
			if !ok || !f.Type().IsRegular() {
				continue
			}
			if best == "" || t.After(bestT) || t.Equal(bestT) && n > bestN {
				best, bestT, bestN = rel, t, n
			}
		}
		if best != "" {
			return best, nil
		}
	}
	return "", nil
}

// openSegmentStart returns the capture time of the first frame of the
// unindexed segment rel: as the recorder noted it when it opened rel, else
// the end of the indexed segment it continues (a segment cut for length is
// followed without a gap), else its file name, which is that time
// truncated to the second.
func openSegmentStart(camDir, rel string, segs []Segment) (time.Time, error) {
	named, _, ok := segmentName(rel)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: segment name %q", ErrCorruptSegment, rel)
	}
	if noted, start, ok := readOpen(camDir); ok && noted == rel {
		return start, nil
	}
	var prev *Segment
	for i := range segs {
		if prev == nil || segs[i].Start.After(prev.Start) {
			prev = &segs[i]
		}
	}
	if prev != nil && prev.EndReason == EndDuration && !prev.End.Before(named) && prev.End.Before(named.Add(time.Second)) {
		return prev.End, nil
	}
	return named, nil
}

// segmentMedia is what a segment file holds.
type segmentMedia struct {
	codec   mp4.Codec
	samples []mediaSample
	size    int64  // open segments: bytes up to the end of the last complete part
	sha256  string // open segments: hex sha256 of those bytes
}

// mediaSample is a sample of a segment file.
type mediaSample struct {
	offset int64  // of the payload in the file
	size   uint32 // of the payload
	dts    int64  // decode time in the file, ticks
	dur    uint32 // ticks to the next sample's decode time
	ptsOff int32
	key    bool
}

// parseSegment reads the codec and samples of the segment file's content
// data, and hashes it. A closed segment must be whole; of an open one
// (still being written, or left by a crash) only the complete parts count.
func parseSegment(data []byte, file string, open bool) (segmentMedia, error) {
	var (
		m        segmentMedia
		haveInit bool
		moof     = -1 // start of the moof waiting for its mdat
		complete int  // end of the last complete init or part
		trackID  int
	)
	corrupt := func(pos int, format string, args ...any) error {
		return fmt.Errorf("%w: %s at byte %d: %s", ErrCorruptSegment, file, pos, fmt.Sprintf(format, args...))
	}
	for pos := 0; pos < len(data); {
		typ, hdr, end, err := topBox(data, pos)
		if err != nil {
			if open && errors.Is(err, io.ErrUnexpectedEOF) {
				break // the part being written
			}
			return segmentMedia{}, corrupt(pos, "%v", err)
		}
		switch typ {
		case "moov":
			var init fmp4.Init
			if err := init.Unmarshal(bytes.NewReader(data[:end])); err != nil {
				return segmentMedia{}, corrupt(pos, "init: %v", err)
			}
			if len(init.Tracks) != 1 {
				return segmentMedia{}, corrupt(pos, "%d tracks, want 1", len(init.Tracks))
			}
			t := init.Tracks[0]
			switch t.Codec.(type) {
			case *mp4.CodecH264, *mp4.CodecH265:
			default:
				return segmentMedia{}, corrupt(pos, "codec %T, want H.264 or H.265", t.Codec)
			}
			if t.TimeScale != timeScale {
				return segmentMedia{}, corrupt(pos, "time scale %d, want %d", t.TimeScale, timeScale)
			}
			m.codec, trackID, haveInit, complete = t.Codec, t.ID, true, end
		case "moof":
			if !haveInit || moof >= 0 {
				return segmentMedia{}, corrupt(pos, "unexpected moof")
			}
			moof = pos
		case "mdat":
			if moof < 0 {
				return segmentMedia{}, corrupt(pos, "mdat without moof")
			}
			if err := m.addPart(data, moof, pos+hdr, end, trackID); err != nil {
				return segmentMedia{}, corrupt(moof, "%v", err)
			}
			moof, complete = -1, end
		}
		pos = end
	}
	if !open && (moof >= 0 || !haveInit) {
		return segmentMedia{}, corrupt(len(data), "file ends without a complete init and parts")
	}
	for i := 0; i+1 < len(m.samples); i++ {
		d := m.samples[i+1].dts - m.samples[i].dts
		if d <= 0 || d > math.MaxUint32 {
			return segmentMedia{}, corrupt(int(m.samples[i+1].offset), "decode time goes from %d to %d", m.samples[i].dts, m.samples[i+1].dts)
		}
		m.samples[i].dur = uint32(d)
	}
	if open {
		sum := sha256.Sum256(data[:complete])
		m.size, m.sha256 = int64(complete), hex.EncodeToString(sum[:])
	}
	return m, nil
}

// addPart adds the samples of the part data[moof:end], whose media data
// starts at payload.
func (m *segmentMedia) addPart(data []byte, moof, payload, end, trackID int) error {
	var parts fmp4.Parts
	pair := data[moof:end]
	if err := parts.Unmarshal(pair); err != nil {
		return err
	}
	if len(parts) != 1 || len(parts[0].Tracks) != 1 || parts[0].Tracks[0].ID != trackID {
		return fmt.Errorf("want one part of track %d", trackID)
	}
	t := parts[0].Tracks[0]
	off, dts := payload-moof, int64(t.BaseTime)
	for _, s := range t.Samples {
		n := len(s.Payload)
		// The recorder lays the samples out in order from the start of
		// mdat; check the parser found each one there.
		if n == 0 || off+n > len(pair) || &s.Payload[0] != &pair[off] {
			return fmt.Errorf("sample data not laid out in order in mdat")
		}
		m.samples = append(m.samples, mediaSample{
			offset: int64(moof + off), size: uint32(n), dts: dts,
			dur: s.Duration, ptsOff: s.PTSOffset, key: !s.IsNonSyncSample,
		})
		off += n
		dts += int64(s.Duration)
	}
	return nil
}

// topBox reads the header of the box at data[pos:]: its type, header size
// and end. A box that runs past the data is io.ErrUnexpectedEOF.
func topBox(data []byte, pos int) (typ string, hdr, end int, err error) {
	rest := data[pos:]
	if len(rest) < 8 {
		return "", 0, 0, io.ErrUnexpectedEOF
	}
	size, hdr := uint64(binary.BigEndian.Uint32(rest)), 8
	switch size {
	case 0: // to the end of the file
		size = uint64(len(rest))
	case 1:
		if len(rest) < 16 {
			return "", 0, 0, io.ErrUnexpectedEOF
		}
		size, hdr = binary.BigEndian.Uint64(rest[8:]), 16
	}
	if size < uint64(hdr) {
		return "", 0, 0, fmt.Errorf("box size %d is smaller than its header", size)
	}
	if size > uint64(len(rest)) {
		return "", 0, 0, io.ErrUnexpectedEOF
	}
	return string(rest[4:8]), hdr, pos + int(size), nil
}
