package decode

// This file is the package's only cgo: libavformat input, libavcodec
// decoding and swscale conversion behind unexported Go types. No C type
// appears outside it.

/*
#cgo pkg-config: libavformat libavcodec libswscale libavutil
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>

// matthan_errlog collects the errors libavcodec logs during one call.
typedef struct {
	int errors;
	char msg[160];
} matthan_errlog;

// The collector of the calling thread; NULL outside matthan_send/receive.
static __thread matthan_errlog *matthan_cur;

static void matthan_log(void *avcl, int level, const char *fmt, va_list vl) {
	matthan_errlog *e = matthan_cur;
	if (e == NULL || level > AV_LOG_ERROR) {
		return;
	}
	e->errors++;
	vsnprintf(e->msg, sizeof e->msg, fmt, vl);
	size_t n = strlen(e->msg);
	while (n > 0 && (e->msg[n-1] == '\n' || e->msg[n-1] == ' ')) {
		e->msg[--n] = 0;
	}
}

static void matthan_install_log(void) { av_log_set_callback(matthan_log); }

static int matthan_send(AVCodecContext *c, AVPacket *p, matthan_errlog *e) {
	matthan_cur = e;
	int r = avcodec_send_packet(c, p);
	matthan_cur = NULL;
	return r;
}

static int matthan_receive(AVCodecContext *c, AVFrame *f, matthan_errlog *e) {
	matthan_cur = e;
	int r = avcodec_receive_frame(c, f);
	matthan_cur = NULL;
	return r;
}

enum {
	matthan_eagain = AVERROR(EAGAIN),
	matthan_eof = AVERROR_EOF,
	matthan_padding = AV_INPUT_BUFFER_PADDING_SIZE,
};

static AVStream *matthan_stream(AVFormatContext *f, int i) { return f->streams[i]; }

static int matthan_scale(struct SwsContext *s, const AVFrame *f, uint8_t *dst, int stride) {
	uint8_t *d[4] = {dst, NULL, NULL, NULL};
	int ls[4] = {stride, 0, 0, 0};
	return sws_scale(s, (const uint8_t *const *)f->data, f->linesize, 0, f->height, d, ls);
}

// matthan_resize scales the picture src into the allocated picture dst.
static int matthan_resize(struct SwsContext *s, const AVFrame *src, AVFrame *dst) {
	return sws_scale(s, (const uint8_t *const *)src->data, src->linesize, 0, src->height, dst->data, dst->linesize);
}

// matthan_yuv420p_buffer gives f the buffers of a w×h yuv420p picture,
// keeping those it has when they are of that size.
static int matthan_yuv420p_buffer(AVFrame *f, int w, int h) {
	if (f->buf[0] != NULL && f->width == w && f->height == h) {
		return 0;
	}
	av_frame_unref(f);
	f->format = AV_PIX_FMT_YUV420P;
	f->width = w;
	f->height = h;
	return av_frame_get_buffer(f, 0);
}

// matthan_colorspace tells s how to read the source colours: the matrix of
// the stream (BT.601 unless said otherwise) and its range.
static void matthan_colorspace(struct SwsContext *s, int cs, int full) {
	sws_setColorspaceDetails(s, sws_getCoefficients(cs), full,
		sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/matthan/matthan/ingest"
)

// noPTS is AV_NOPTS_VALUE.
const noPTS = math.MinInt64

var logOnce sync.Once

// silenceLibav routes FFmpeg's log output to the per-call error collectors
// and drops everything else. The callback is process-wide.
func silenceLibav() { logOnce.Do(func() { C.matthan_install_log() }) }

// avError is an FFmpeg error code.
type avError C.int

func (e avError) Error() string {
	var buf [128]C.char
	if C.av_strerror(C.int(e), &buf[0], C.size_t(len(buf))) < 0 {
		return fmt.Sprintf("libav error %d", int(e))
	}
	return C.GoString(&buf[0])
}

// Is lets errors.Is match the fs errors of the POSIX codes FFmpeg passes on.
func (e avError) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e == avError(-C.int(syscall.ENOENT))
	case fs.ErrPermission:
		return e == avError(-C.int(syscall.EACCES)) || e == avError(-C.int(syscall.EPERM))
	}
	return false
}

// ---- libavformat input ----

// input is an opened media file and its chosen video stream.
type input struct {
	fc     *C.AVFormatContext
	st     *C.AVStream
	pkt    *C.AVPacket
	stream C.int
}

// streamInfo is what the container says about the video stream.
type streamInfo struct {
	codecName     string       // FFmpeg's short name: "h264", "hevc", "mpeg4"...
	codec         ingest.Codec // "" when neither H.264 nor H.265
	width, height int
	frameRate     float64
	duration      time.Duration
	extradata     []byte
	tbNum, tbDen  int64
	start         int64 // first timestamp in time base units; 0 when unknown
}

// rawPacket is a demuxed packet. data is C memory valid until the next read.
type rawPacket struct {
	data     []byte
	pts, dts int64 // noPTS when unknown
	key      bool
}

// openInput opens path and selects its best video stream. Errors are not
// wrapped with the path: the caller does that.
func openInput(path string) (*input, error) {
	silenceLibav()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	in := &input{}
	if r := C.avformat_open_input(&in.fc, cpath, nil, nil); r < 0 {
		return nil, avError(r)
	}
	if r := C.avformat_find_stream_info(in.fc, nil); r < 0 {
		in.close()
		return nil, fmt.Errorf("read stream info: %w", avError(r))
	}
	idx := C.av_find_best_stream(in.fc, C.AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
	if idx < 0 {
		in.close()
		return nil, ErrNoVideo
	}
	in.stream = idx
	for i := C.int(0); i < C.int(in.fc.nb_streams); i++ {
		if i != idx {
			C.matthan_stream(in.fc, i).discard = C.AVDISCARD_ALL
		}
	}
	in.st = C.matthan_stream(in.fc, idx)
	in.pkt = C.av_packet_alloc()
	if in.pkt == nil {
		in.close()
		return nil, errors.New("out of memory")
	}
	return in, nil
}

func (in *input) info() streamInfo {
	par := in.st.codecpar
	s := streamInfo{
		codecName: C.GoString(C.avcodec_get_name(par.codec_id)),
		width:     int(par.width),
		height:    int(par.height),
		tbNum:     int64(in.st.time_base.num),
		tbDen:     int64(in.st.time_base.den),
	}
	switch par.codec_id {
	case C.AV_CODEC_ID_H264:
		s.codec = ingest.H264
	case C.AV_CODEC_ID_HEVC:
		s.codec = ingest.H265
	}
	if par.extradata != nil && par.extradata_size > 0 {
		s.extradata = C.GoBytes(unsafe.Pointer(par.extradata), par.extradata_size)
	}
	if fr := in.st.avg_frame_rate; fr.num > 0 && fr.den > 0 {
		s.frameRate = float64(fr.num) / float64(fr.den)
	} else if fr := in.st.r_frame_rate; fr.num > 0 && fr.den > 0 {
		s.frameRate = float64(fr.num) / float64(fr.den)
	}
	if st := int64(in.st.start_time); st != noPTS {
		s.start = st
	}
	if d := int64(in.st.duration); d != noPTS && d > 0 {
		s.duration = s.toDuration(d)
	} else if d := int64(in.fc.duration); d != noPTS && d > 0 {
		s.duration = time.Duration(d) * time.Microsecond
	}
	return s
}

// toDuration converts ts, in the stream's time base, to a duration.
func (s *streamInfo) toDuration(ts int64) time.Duration {
	if s.tbDen == 0 {
		return 0
	}
	// ts*num/den seconds, computed in float to avoid int64 overflow with
	// large time bases; exact to well below a nanosecond for real streams.
	return time.Duration(math.Round(float64(ts) * float64(s.tbNum) * 1e9 / float64(s.tbDen)))
}

// read returns the next packet of the video stream, io.EOF at the end.
func (in *input) read() (rawPacket, error) {
	for {
		C.av_packet_unref(in.pkt)
		r := C.av_read_frame(in.fc, in.pkt)
		if r == C.matthan_eof {
			return rawPacket{}, io.EOF
		}
		if r < 0 {
			return rawPacket{}, avError(r)
		}
		if in.pkt.stream_index != in.stream {
			continue
		}
		p := rawPacket{
			pts: int64(in.pkt.pts),
			dts: int64(in.pkt.dts),
			key: in.pkt.flags&C.AV_PKT_FLAG_KEY != 0,
		}
		if in.pkt.data != nil && in.pkt.size > 0 {
			p.data = unsafe.Slice((*byte)(unsafe.Pointer(in.pkt.data)), int(in.pkt.size))
		}
		return p, nil
	}
}

// seekStart moves back to the first packet of the video stream.
func (in *input) seekStart() error {
	C.av_packet_unref(in.pkt)
	if r := C.avformat_seek_file(in.fc, in.stream, math.MinInt64, 0, math.MaxInt64, C.AVSEEK_FLAG_BACKWARD); r < 0 {
		if r := C.av_seek_frame(in.fc, in.stream, math.MinInt64, C.AVSEEK_FLAG_BACKWARD|C.AVSEEK_FLAG_ANY); r < 0 {
			return avError(r)
		}
	}
	return nil
}

func (in *input) close() {
	if in.pkt != nil {
		C.av_packet_free(&in.pkt)
	}
	if in.fc != nil {
		C.avformat_close_input(&in.fc)
	}
}

// ---- libavcodec decoding and swscale conversion ----

// errAgain means the decoder wants its output read before more input.
var errAgain = errors.New("libavcodec: output pending")

// codec is a libavcodec decoder with its current picture and the scaler
// that converts that picture to BGR24.
type codec struct {
	ctx   *C.AVCodecContext
	frame *C.AVFrame
	pkt   *C.AVPacket // for Annex-B input built in buf
	log   *C.matthan_errlog
	buf   *C.uint8_t
	bufN  int // capacity of buf without padding
	scale scaler

	ready bool // frame holds a decoded picture
}

// newCodec opens a decoder for an H.264 or H.265 elementary stream.
func newCodec(c ingest.Codec, threads int) (*codec, error) {
	var id C.enum_AVCodecID
	switch c {
	case ingest.H264:
		id = C.AV_CODEC_ID_H264
	case ingest.H265:
		id = C.AV_CODEC_ID_HEVC
	default:
		return nil, fmt.Errorf("%w %q: only H.264 and H.265 can be decoded", ErrUnsupportedCodec, string(c))
	}
	return openCodec(id, nil, threads)
}

// newCodecFor opens a decoder for the video stream of in.
func newCodecFor(in *input, threads int) (*codec, error) {
	return openCodec(in.st.codecpar.codec_id, in.st, threads)
}

func openCodec(id C.enum_AVCodecID, st *C.AVStream, threads int) (*codec, error) {
	silenceLibav()
	dec := C.avcodec_find_decoder(id)
	if dec == nil {
		return nil, fmt.Errorf("%w %q: no decoder in this FFmpeg build", ErrUnsupportedCodec, C.GoString(C.avcodec_get_name(id)))
	}
	c := &codec{ctx: C.avcodec_alloc_context3(dec)}
	c.frame = C.av_frame_alloc()
	c.pkt = C.av_packet_alloc()
	c.log = (*C.matthan_errlog)(C.calloc(1, C.size_t(unsafe.Sizeof(C.matthan_errlog{}))))
	if c.ctx == nil || c.frame == nil || c.pkt == nil || c.log == nil {
		c.close()
		return nil, errors.New("out of memory")
	}
	if st != nil {
		if r := C.avcodec_parameters_to_context(c.ctx, st.codecpar); r < 0 {
			c.close()
			return nil, avError(r)
		}
		c.ctx.pkt_timebase = st.time_base
	} else {
		c.ctx.pkt_timebase = C.AVRational{num: 1, den: 1e9} // packet pts in nanoseconds
	}
	c.ctx.thread_count = C.int(max(threads, 0))
	if r := C.avcodec_open2(c.ctx, dec, nil); r < 0 {
		c.close()
		return nil, fmt.Errorf("open %s decoder: %w", C.GoString(C.avcodec_get_name(id)), avError(r))
	}
	return c, nil
}

// setSkip selects which pictures the decoder skips.
func (c *codec) setSkip(m Mode) {
	switch m {
	case SkipNonReference:
		c.ctx.skip_frame = C.AVDISCARD_NONREF
	case KeyframesOnly:
		c.ctx.skip_frame = C.AVDISCARD_NONKEY
	default:
		c.ctx.skip_frame = C.AVDISCARD_DEFAULT
	}
}

// sendAnnexB feeds one access unit made of the non-empty units of ps
// followed by nalus, with start codes, and pts in nanoseconds.
func (c *codec) sendAnnexB(ps *[3][]byte, nalus [][]byte, pts int64) error {
	n := 0
	for _, u := range ps {
		if len(u) > 0 {
			n += 4 + len(u)
		}
	}
	for _, u := range nalus {
		n += 4 + len(u)
	}
	if n > math.MaxInt32-int(C.matthan_padding) {
		return fmt.Errorf("%w: access unit of %d bytes", ErrDecode, n)
	}
	if n > c.bufN {
		C.av_free(unsafe.Pointer(c.buf))
		c.bufN = max(n, 2*c.bufN)
		c.buf = (*C.uint8_t)(C.av_malloc(C.size_t(c.bufN + int(C.matthan_padding))))
		if c.buf == nil {
			c.bufN = 0
			return errors.New("out of memory")
		}
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(c.buf)), c.bufN+int(C.matthan_padding))
	off := 0
	put := func(u []byte) {
		b[off], b[off+1], b[off+2], b[off+3] = 0, 0, 0, 1
		off += 4 + copy(b[off+4:], u)
	}
	for _, u := range ps {
		if len(u) > 0 {
			put(u)
		}
	}
	for _, u := range nalus {
		put(u)
	}
	clear(b[off : off+int(C.matthan_padding)])
	c.pkt.data = c.buf
	c.pkt.size = C.int(off)
	c.pkt.pts = C.int64_t(pts)
	c.pkt.dts = C.int64_t(noPTS)
	c.pkt.flags = 0
	err := c.send(c.pkt)
	c.pkt.data, c.pkt.size = nil, 0 // not refcounted: libavcodec copied it
	return err
}

// sendInput feeds the packet in last read.
func (c *codec) sendInput(in *input) error { return c.send(in.pkt) }

// sendEOF starts draining: the pictures held for reordering come out.
func (c *codec) sendEOF() error { return c.send(nil) }

func (c *codec) send(p *C.AVPacket) error {
	switch r := C.matthan_send(c.ctx, p, c.log); {
	case r == C.matthan_eagain:
		return errAgain
	case r == C.matthan_eof:
		return io.EOF
	case r < 0:
		return avError(r)
	}
	return nil
}

// receive takes the next decoded picture. It returns false when the decoder
// needs more input and io.EOF when it is fully drained. The previous picture
// is released in every case.
func (c *codec) receive() (bool, error) {
	c.ready = false
	switch r := C.matthan_receive(c.ctx, c.frame, c.log); {
	case r == C.matthan_eagain:
		return false, nil
	case r == C.matthan_eof:
		return false, io.EOF
	case r < 0:
		return false, avError(r)
	}
	c.ready = true
	return true, nil
}

// takeErrors returns how many errors libavcodec logged since the last call
// and the last message, and resets the count.
func (c *codec) takeErrors() (int, string) {
	n := int(c.log.errors)
	if n == 0 {
		return 0, ""
	}
	c.log.errors = 0
	return n, C.GoString(&c.log.msg[0])
}

// reset discards buffered input and pictures, ending a drain.
func (c *codec) reset() {
	C.avcodec_flush_buffers(c.ctx)
	C.av_frame_unref(c.frame)
	c.ready = false
}

// pictureTS returns the timestamp of the current picture in packet time
// base units, noPTS when unknown.
func (c *codec) pictureTS() int64 {
	if ts := int64(c.frame.best_effort_timestamp); ts != noPTS {
		return ts
	}
	return int64(c.frame.pts)
}

func (c *codec) pictureSize() (int, int) { return int(c.frame.width), int(c.frame.height) }

// convert scales the current picture to BGR24 of w×h into dst, rows stride
// bytes apart. dst must hold stride*h bytes.
func (c *codec) convert(dst []byte, stride, w, h int) error {
	return c.scale.convert(c.frame, dst, stride, w, h)
}

// keep makes k a new reference to the current picture.
func (c *codec) keep(k *keptPicture) error {
	C.av_frame_unref(k.frame)
	if r := C.av_frame_ref(k.frame, c.frame); r < 0 {
		return fmt.Errorf("keep picture: %w", avError(r))
	}
	return nil
}

func (c *codec) close() {
	c.scale.close()
	if c.frame != nil {
		C.av_frame_free(&c.frame)
	}
	if c.pkt != nil {
		C.av_packet_free(&c.pkt)
	}
	if c.ctx != nil {
		C.avcodec_free_context(&c.ctx)
	}
	if c.buf != nil {
		C.av_free(unsafe.Pointer(c.buf))
		c.buf, c.bufN = nil, 0
	}
	if c.log != nil {
		C.free(unsafe.Pointer(c.log))
		c.log = nil
	}
	c.ready = false
}

// ---- swscale conversion ----

// scaler converts decoded pictures to packed BGR24 with cached swscale
// contexts. A yuv420p picture (what H.264 and H.265 cameras send) is
// scaled in two passes: to a yuv420p picture of the target size, then
// converted to BGR24 at that size; swscale's planar scaler and its
// unscaled YUV to BGR conversion together take about 40 % less time than
// scaling straight into BGR24, and the chroma is then treated as in a
// full-size conversion (closer to the OpenCV resize of one).
type scaler struct {
	sws      *C.struct_SwsContext // to BGR24
	cs, full C.int                // colour matrix and range last applied to sws
	resizer  *C.struct_SwsContext // yuv420p to yuv420p of the target size
	small    *C.AVFrame           // the resizer's output, reused
}

// Scaling filters. A conversion at the picture's own size only
// interpolates the chroma (swscale's unscaled path, which ignores the
// filter). Scaling to a model's input uses area averaging: of swscale's
// filters it comes closest to what the detectors were checked with, an
// OpenCV bilinear (INTER_LINEAR) resize of the full-size picture (a mean
// difference of 0.5 to 1.5 grey levels on the test footage, against 0.6
// to 2.0 for SWS_BILINEAR and 0.7 to 3.9 for SWS_FAST_BILINEAR).
const (
	sameSizeFilter = C.SWS_FAST_BILINEAR
	scaleFilter    = C.SWS_AREA
)

// convert scales picture f to BGR24 of w×h into dst, rows stride bytes
// apart. dst must hold stride*h bytes.
func (s *scaler) convert(f *C.AVFrame, dst []byte, stride, w, h int) error {
	src := f.format
	full := C.int(0)
	if f.color_range == C.AVCOL_RANGE_JPEG {
		full = 1
	}
	switch src { // the deprecated full-range formats: same layout, range given explicitly
	case C.AV_PIX_FMT_YUVJ420P:
		src, full = C.AV_PIX_FMT_YUV420P, 1
	case C.AV_PIX_FMT_YUVJ422P:
		src, full = C.AV_PIX_FMT_YUV422P, 1
	case C.AV_PIX_FMT_YUVJ444P:
		src, full = C.AV_PIX_FMT_YUV444P, 1
	}
	in, filter := f, C.int(sameSizeFilter)
	if C.int(w) != f.width || C.int(h) != f.height {
		filter = scaleFilter
		if src == C.AV_PIX_FMT_YUV420P {
			small, err := s.resize(f, w, h)
			if err != nil {
				return err
			}
			in, filter = small, sameSizeFilter
		}
	}
	prev := s.sws
	s.sws = C.sws_getCachedContext(s.sws, in.width, in.height, int32(src), C.int(w), C.int(h),
		C.AV_PIX_FMT_BGR24, filter, nil, nil, nil)
	if s.sws == nil {
		return fmt.Errorf("swscale from %s %dx%d to bgr24 %dx%d: unsupported",
			C.GoString(C.av_get_pix_fmt_name(int32(f.format))), int(f.width), int(f.height), w, h)
	}
	cs := C.int(C.SWS_CS_DEFAULT)
	switch f.colorspace {
	case C.AVCOL_SPC_BT709:
		cs = C.SWS_CS_ITU709
	case C.AVCOL_SPC_BT2020_NCL, C.AVCOL_SPC_BT2020_CL:
		cs = C.SWS_CS_BT2020
	}
	if s.sws != prev || cs != s.cs || full != s.full {
		C.matthan_colorspace(s.sws, cs, full)
		s.cs, s.full = cs, full
	}
	if r := C.matthan_scale(s.sws, in, (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(stride)); r < 0 {
		return fmt.Errorf("swscale: %w", avError(r))
	}
	return nil
}

// resize scales the yuv420p picture f to a yuv420p picture of w×h, kept in
// s.small (the range and colours are left as they are).
func (s *scaler) resize(f *C.AVFrame, w, h int) (*C.AVFrame, error) {
	if s.small == nil {
		if s.small = C.av_frame_alloc(); s.small == nil {
			return nil, errors.New("swscale: out of memory")
		}
	}
	if r := C.matthan_yuv420p_buffer(s.small, C.int(w), C.int(h)); r < 0 {
		return nil, fmt.Errorf("swscale: yuv420p picture of %dx%d: %w", w, h, avError(r))
	}
	s.resizer = C.sws_getCachedContext(s.resizer, f.width, f.height, C.AV_PIX_FMT_YUV420P, C.int(w), C.int(h),
		C.AV_PIX_FMT_YUV420P, scaleFilter, nil, nil, nil)
	if s.resizer == nil {
		return nil, fmt.Errorf("swscale from yuv420p %dx%d to %dx%d: unsupported", int(f.width), int(f.height), w, h)
	}
	if r := C.matthan_resize(s.resizer, f, s.small); r < 0 {
		return nil, fmt.Errorf("swscale: %w", avError(r))
	}
	return s.small, nil
}

func (s *scaler) close() {
	for _, c := range []**C.struct_SwsContext{&s.sws, &s.resizer} {
		if *c != nil {
			C.sws_freeContext(*c)
			*c = nil
		}
	}
	if s.small != nil {
		C.av_frame_free(&s.small)
	}
}

// ---- kept pictures ----

// keptPicture is a reference to a decoded picture (av_frame_ref: the
// picture's buffers, shared with the decoder, stay valid until released;
// nothing is copied) and the scalers that convert it later: at full size,
// and at the size of the Frame that keeps it (Decoder.Keep). Each keeps its
// swscale contexts for its own size. The AVFrame is allocated once and
// reused for every picture kept.
type keptPicture struct {
	frame *C.AVFrame
	scale scaler // to full size (Frame.Full)
	sized scaler // to the Frame's size (Frame.Convert)
}

func newKeptPicture() (*keptPicture, error) {
	k := &keptPicture{frame: C.av_frame_alloc()}
	if k.frame == nil {
		return nil, errors.New("keep picture: out of memory")
	}
	return k, nil
}

// held reports whether k references a picture.
func (k *keptPicture) held() bool { return k.frame != nil && k.frame.buf[0] != nil }

// convert converts the kept picture to BGR24 of w×h into dst, rows stride
// bytes apart, with the full-size scaler, or with the Frame's one when sized.
func (k *keptPicture) convert(dst []byte, stride, w, h int, sized bool) error {
	if sized {
		return k.sized.convert(k.frame, dst, stride, w, h)
	}
	return k.scale.convert(k.frame, dst, stride, w, h)
}

// release gives the picture's buffers back to the decoder.
func (k *keptPicture) release() {
	if k.frame != nil {
		C.av_frame_unref(k.frame)
	}
}

// close releases the picture and frees k's C memory.
func (k *keptPicture) close() {
	if k.frame != nil {
		C.av_frame_free(&k.frame)
	}
	k.scale.close()
	k.sized.close()
}
