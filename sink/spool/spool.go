package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Spool defaults.
const (
	// DefaultMaxBytes bounds the unacknowledged bytes of one spool: about
	// two million events, days of a few hundred cameras' summaries.
	DefaultMaxBytes = 1 << 30
	// DefaultSegmentBytes is the size at which a new segment file starts;
	// a segment is deleted once the reader acknowledged all of it.
	DefaultSegmentBytes = 64 << 20
	// DefaultSyncInterval is the longest an appended record waits for its
	// fsync: what a power cut may lose, a crash of the process never.
	DefaultSyncInterval = 100 * time.Millisecond
)

// readChunk is how much Read takes from a segment file at once.
const readChunk = 256 << 10

// File names in a spool folder besides the segments.
const (
	lockName   = "lock"
	cursorName = "cursor"
	cursorTmp  = "cursor.tmp" // of former versions, which renamed it over cursor
	cursorLen  = 20           // segment, offset, CRC-32C
)

// Options configures Open. The zero value is usable.
type Options struct {
	// Name names the spool in logs and metric labels. Defaults to the
	// folder's base name.
	Name string
	// MaxBytes bounds the bytes of unacknowledged records (payload plus an
	// 8-byte frame each); disk use can exceed it by one segment. Defaults
	// to DefaultMaxBytes.
	MaxBytes int64
	// SegmentBytes is the size at which a new segment starts. Defaults to
	// DefaultSegmentBytes, or an eighth of MaxBytes (at least 64 KiB) when
	// that is smaller.
	SegmentBytes int64
	// SyncInterval is how often appended records are fsynced. Defaults to
	// DefaultSyncInterval.
	SyncInterval time.Duration
	// OnFull, when set, is called with true when the spool becomes full and
	// refuses a record, and with false when it accepts one again. It is
	// called from the goroutine calling Append, without the spool's lock
	// held, and must not block.
	OnFull func(full bool)
	// Logger receives the full alarm, damaged records and sync failures.
	// Defaults to discarding.
	Logger *slog.Logger
	// Metrics receives the spool's gauges and counters. Defaults to
	// unregistered metrics.
	Metrics *Metrics
}

// position is a place in the spool: a segment and a byte offset in it.
type position struct {
	seg uint64
	off int64
}

// segment is one live segment file.
type segment struct {
	id   uint64
	size int64 // bytes of intact records, plus the magic
	// records counts the records after the read start: the whole segment,
	// or what follows the cursor in the segment the spool was opened at.
	records int
}

// Spool is an append-only disk queue of records with one reader. Append is
// safe for concurrent use; Read and Ack are for the one reader goroutine.
type Spool struct {
	dir      string
	name     string
	maxBytes int64
	segBytes int64
	onFull   func(bool)
	log      *slog.Logger
	m        spoolMetrics
	lock     *os.File
	ready    chan struct{}
	stop     chan struct{}
	wg       sync.WaitGroup
	ackMu    sync.Mutex // one Ack writes the cursor at a time
	cf       *os.File   // the cursor file, written in place

	mu     sync.Mutex
	closed bool
	broken error // a failed write that could not be undone
	segs   []segment
	w      *os.File // the last segment, appended to
	wbuf   []byte
	dirty  bool // appended since the last fsync
	cdirty bool // the cursor file written since the last fsync

	ri   int      // reader: index in segs of the segment it reads
	roff int64    // reader: offset in it
	rrec int      // reader: records read in it
	rf   *os.File // reader: handle of segs[ri], nil until needed
	rfID uint64

	cur         position // acknowledged cursor, persisted
	pendRecs    int      // records after the cursor
	pendBytes   int64
	unreadRecs  int // records after the reader
	unreadBytes int64
	full        bool
	refusedFull int // records refused since the spool became full
}

// Open opens the spool in dir, creating the folder when needed, and
// resumes after its persisted cursor. Only one Spool may have a folder
// open at a time (ErrLocked). Close it when done.
func Open(dir string, o Options) (*Spool, error) {
	if o.Name == "" {
		o.Name = filepath.Base(dir)
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = min(DefaultSegmentBytes, max(o.MaxBytes/8, 64<<10))
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = discardMetrics()
	}
	s := &Spool{
		dir:      dir,
		name:     o.Name,
		maxBytes: o.MaxBytes,
		segBytes: o.SegmentBytes,
		onFull:   o.OnFull,
		log:      o.Logger.With("spool", o.Name),
		m:        o.Metrics.forSpool(o.Name),
		ready:    make(chan struct{}, 1),
		stop:     make(chan struct{}),
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("open spool %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("open spool %s: lock: %w", dir, err)
	}
	s.lock = lock
	if err := s.load(); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("open spool %s: %w", dir, err)
	}
	s.m.maxBytes.Set(float64(s.maxBytes))
	s.m.full.Set(0)
	s.setGauges()
	if s.unreadRecs > 0 {
		s.log.Info("spool resumed", "records", s.unreadRecs, "bytes", s.unreadBytes, "dir", dir)
		s.ready <- struct{}{}
	}
	s.wg.Go(func() { s.syncLoop(o.SyncInterval) })
	return s, nil
}

// load reads the cursor and the segments, checks every record after the
// cursor, cuts damaged tails off and opens the last segment for appending.
func (s *Spool) load() error {
	ids, err := listSegments(s.dir)
	if err != nil {
		return err
	}
	cur, ok, err := readCursor(s.dir)
	if err != nil {
		return err
	}
	if s.cf, err = openCursor(s.dir, ok); err != nil {
		return err
	}
	switch {
	case !ok && len(ids) > 0:
		cur = position{ids[0], segStart}
	case !ok:
		cur = position{0, segStart}
	}
	// Segments behind the cursor were acknowledged; their removal was cut short.
	for len(ids) > 0 && ids[0] < cur.seg {
		if err := os.Remove(filepath.Join(s.dir, segName(ids[0]))); err != nil {
			return err
		}
		ids = ids[1:]
	}
	if len(ids) == 0 {
		id := cur.seg + 1 // beyond the cursor, so that a stale cursor never points into it
		f, err := createSegment(s.dir, id)
		if err != nil {
			return err
		}
		s.w = f
		s.segs = []segment{{id: id, size: segStart}}
		s.cur = position{id, segStart}
		s.roff = segStart
		return nil
	}
	if ids[0] != cur.seg {
		cur = position{ids[0], segStart}
	}
	for i, id := range ids {
		from := segStart
		if id == cur.seg {
			from = cur.off
		}
		seg, err := s.checkSegment(id, from, i == len(ids)-1)
		if err != nil {
			return err
		}
		start := max(from, segStart)
		if start > seg.size {
			// The machine stopped before the segment's end reached the disk,
			// after the cursor past it did: those records were delivered.
			s.log.Warn("spool cursor beyond the end of its segment: resuming at the segment's end",
				"segment", id, "cursor", start, "size", seg.size)
			start = seg.size
		}
		if id == cur.seg {
			cur.off = start
		}
		s.segs = append(s.segs, seg)
		s.pendRecs += seg.records
		s.pendBytes += seg.size - start
	}
	s.cur = cur
	s.roff = cur.off
	s.unreadRecs, s.unreadBytes = s.pendRecs, s.pendBytes
	last := s.segs[len(s.segs)-1]
	s.w, err = os.OpenFile(filepath.Join(s.dir, segName(last.id)), os.O_WRONLY|os.O_APPEND, 0)
	return err
}

// checkSegment checks the records of segment id from offset from and cuts
// off what follows the first damaged one: a torn tail when the segment is
// the last, corruption otherwise (both are logged and counted).
func (s *Spool) checkSegment(id uint64, from int64, last bool) (segment, error) {
	path := filepath.Join(s.dir, segName(id))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return segment{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return segment{}, err
	}
	size := info.Size()
	if size < segStart { // cut off while being created: no records yet
		if err := f.Truncate(0); err != nil {
			return segment{}, err
		}
		if _, err := f.WriteAt([]byte(segMagic), 0); err != nil {
			return segment{}, err
		}
		return segment{id: id, size: segStart}, f.Sync()
	}
	magic := make([]byte, segStart)
	if _, err := f.ReadAt(magic, 0); err != nil {
		return segment{}, err
	}
	if string(magic) != segMagic {
		return segment{}, fmt.Errorf("%w: %s does not start with %q", ErrCorrupt, path, segMagic)
	}
	from = max(from, segStart)
	if from >= size {
		return segment{id: id, size: size}, nil
	}
	records, valid, err := scanRecords(io.NewSectionReader(f, from, size-from))
	if err != nil {
		return segment{}, fmt.Errorf("check %s: %w", path, err)
	}
	end := from + valid
	if end < size {
		what := "torn tail (the process or machine stopped during a write)"
		if !last {
			what = "damaged record: the rest of the segment is lost"
		}
		s.log.Warn("spool segment cut at a "+what, "segment", path, "offset", end, "cut_bytes", size-end, "records_kept", records)
		s.m.damaged.Add(float64(size - end))
		if err := f.Truncate(end); err != nil {
			return segment{}, err
		}
		if err := f.Sync(); err != nil {
			return segment{}, err
		}
	}
	return segment{id: id, size: end, records: records}, nil
}

// createSegment creates segment id with its magic, durably.
func createSegment(dir string, id uint64) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, segName(id)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write([]byte(segMagic)); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// readCursor reads the persisted cursor; ok is false when there is none
// or it is damaged (then the reader starts at the oldest segment: records
// are sent again rather than lost).
func readCursor(dir string) (pos position, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, cursorName))
	if errors.Is(err, os.ErrNotExist) {
		return position{}, false, nil
	}
	if err != nil {
		return position{}, false, err
	}
	if len(b) != cursorLen || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return position{}, false, nil
	}
	return position{binary.LittleEndian.Uint64(b[:8]), int64(binary.LittleEndian.Uint64(b[8:16]))}, true, nil
}

// openCursor opens the cursor file for writing in place, creating it
// durably; valid says whether readCursor found it intact (else it is
// emptied, so that a damaged tail never follows a new cursor).
func openCursor(dir string, valid bool) (*os.File, error) {
	if err := os.Remove(filepath.Join(dir, cursorTmp)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, cursorName), os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, err
	}
	if !valid {
		err = f.Truncate(0)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// writeCursor writes pos over the cursor file's content, with one
// write(2): a crash of the process keeps it at once, a crash of the
// machine after the next fsync. A write torn by a power cut fails the CRC,
// and the reader then starts at the oldest segment (records are sent
// again, not lost).
func writeCursor(f *os.File, pos position) error {
	var b [cursorLen]byte
	binary.LittleEndian.PutUint64(b[:8], pos.seg)
	binary.LittleEndian.PutUint64(b[8:16], uint64(pos.off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	_, err := f.WriteAt(b[:], 0)
	return err
}

// Append adds rec at the end of the spool. It refuses, counts and returns
// ErrFull when rec would take the unacknowledged bytes over MaxBytes, and
// ErrTooLarge for a record over MaxRecordBytes. A nil error means the
// record is in the file: it survives a crash of the process at once, and
// a crash of the machine after the next fsync (SyncInterval).
func (s *Spool) Append(rec []byte) error {
	if len(rec) > MaxRecordBytes {
		s.m.refused.Inc()
		return fmt.Errorf("spool %s: %w: %d bytes, at most %d", s.name, ErrTooLarge, len(rec), MaxRecordBytes)
	}
	n := int64(recHeader + len(rec))
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("spool %s: %w", s.name, ErrClosed)
	}
	if s.broken != nil {
		err := s.broken
		s.mu.Unlock()
		s.m.refused.Inc()
		return fmt.Errorf("spool %s: %w", s.name, err)
	}
	if s.pendBytes+n > s.maxBytes {
		became := !s.full
		s.full = true
		s.refusedFull++
		waiting := s.pendBytes
		if became {
			s.m.full.Set(1)
		}
		s.mu.Unlock()
		s.m.refused.Inc()
		if became {
			s.log.Error("spool full: refusing new records until the sink takes some",
				"bytes", waiting, "max_bytes", s.maxBytes, "dir", s.dir)
			if s.onFull != nil {
				s.onFull(true)
			}
		}
		return fmt.Errorf("spool %s: %w: %d bytes waiting, at most %d", s.name, ErrFull, waiting, s.maxBytes)
	}
	if last := s.segs[len(s.segs)-1]; last.size > segStart && last.size+n > s.segBytes {
		if err := s.rotate(); err != nil {
			s.mu.Unlock()
			s.m.refused.Inc()
			return fmt.Errorf("spool %s: new segment: %w", s.name, err)
		}
	}
	last := &s.segs[len(s.segs)-1]
	s.wbuf = appendRecord(s.wbuf[:0], rec)
	if _, err := s.w.Write(s.wbuf); err != nil {
		// Undo a partial write, so that the next record starts on a boundary.
		if terr := s.w.Truncate(last.size); terr != nil {
			s.broken = fmt.Errorf("a failed write could not be undone: %w", errors.Join(err, terr))
		}
		s.mu.Unlock()
		s.m.refused.Inc()
		return fmt.Errorf("spool %s: append: %w", s.name, err)
	}
	last.size += n
	last.records++
	s.pendRecs++
	s.pendBytes += n
	s.unreadRecs++
	s.unreadBytes += n
	s.dirty = true
	recovered, refused := s.full, s.refusedFull
	s.full, s.refusedFull = false, 0
	s.m.appended.Inc()
	s.setGauges()
	if recovered {
		s.m.full.Set(0)
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
	if recovered {
		s.log.Warn("spool has room again", "refused_while_full", refused, "dir", s.dir)
		if s.onFull != nil {
			s.onFull(false)
		}
	}
	return nil
}

// rotate fsyncs and closes the last segment and starts the next. Callers
// hold s.mu.
func (s *Spool) rotate() error {
	if err := s.w.Sync(); err != nil {
		s.m.syncFail.Inc()
		return err
	}
	s.dirty = false
	id := s.segs[len(s.segs)-1].id + 1
	f, err := createSegment(s.dir, id)
	if err != nil {
		return err
	}
	old := s.w
	s.w = f
	s.segs = append(s.segs, segment{id: id, size: segStart})
	return old.Close()
}

// setGauges publishes the waiting records and bytes. Callers hold s.mu.
func (s *Spool) setGauges() {
	s.m.bytes.Set(float64(s.pendBytes))
	s.m.records.Set(float64(s.pendRecs))
}

// Read returns up to max records that follow those already read, in the
// order they were appended, or none when there are none. The records stay
// in the spool until Ack; after a restart, records not acknowledged are
// read again. The returned slices are the caller's.
func (s *Spool) Read(max int) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("spool %s: %w", s.name, ErrClosed)
	}
	var out [][]byte
	for len(out) < max && s.unreadRecs > 0 {
		seg := s.segs[s.ri]
		if s.roff >= seg.size {
			if s.ri == len(s.segs)-1 {
				break // cannot happen: unread records are after the reader
			}
			s.nextReadSegment()
			continue
		}
		f, err := s.readFile()
		if err != nil {
			return out, fmt.Errorf("spool %s: read: %w", s.name, err)
		}
		avail := seg.size - s.roff
		buf := make([]byte, min(avail, readChunk))
		if _, err := f.ReadAt(buf, s.roff); err != nil {
			return out, fmt.Errorf("spool %s: read: %w", s.name, err)
		}
		took := 0
		for len(out) < max && len(buf) > 0 {
			payload, n, err := parseRecord(buf)
			if errors.Is(err, io.ErrUnexpectedEOF) && took == 0 && len(buf) >= recHeader {
				// A record longer than the chunk: read it whole.
				need := int64(recHeader) + int64(binary.LittleEndian.Uint32(buf[:4]))
				if need <= avail && need > int64(len(buf)) {
					buf = make([]byte, need)
					if _, err := f.ReadAt(buf, s.roff); err != nil {
						return out, fmt.Errorf("spool %s: read: %w", s.name, err)
					}
					continue
				}
			}
			if errors.Is(err, io.ErrUnexpectedEOF) && took > 0 {
				break // the next chunk has the rest
			}
			if err != nil {
				s.skipDamaged()
				break
			}
			out = append(out, payload)
			buf = buf[n:]
			took++
			s.roff += int64(n)
			s.rrec++
			s.unreadRecs--
			s.unreadBytes -= int64(n)
		}
	}
	return out, nil
}

// skipDamaged moves the reader past the rest of its segment after a
// damaged record, logged and counted. Callers hold s.mu.
func (s *Spool) skipDamaged() {
	seg := s.segs[s.ri]
	lost, lostBytes := seg.records-s.rrec, seg.size-s.roff
	s.log.Error("spool record damaged since it was written: the rest of its segment is skipped",
		"segment", filepath.Join(s.dir, segName(seg.id)), "offset", s.roff, "records", lost, "bytes", lostBytes)
	s.m.damaged.Add(float64(lostBytes))
	s.unreadRecs -= lost
	s.unreadBytes -= lostBytes
	s.roff, s.rrec = seg.size, seg.records
}

// nextReadSegment moves the reader to the start of the next segment.
// Callers hold s.mu.
func (s *Spool) nextReadSegment() {
	if s.rf != nil {
		s.rf.Close()
		s.rf = nil
	}
	s.ri++
	s.roff, s.rrec = segStart, 0
}

// readFile returns a read handle of the reader's segment. Callers hold s.mu.
func (s *Spool) readFile() (*os.File, error) {
	id := s.segs[s.ri].id
	if s.rf != nil && s.rfID == id {
		return s.rf, nil
	}
	if s.rf != nil {
		s.rf.Close()
		s.rf = nil
	}
	f, err := os.Open(filepath.Join(s.dir, segName(id)))
	if err != nil {
		return nil, err
	}
	s.rf, s.rfID = f, id
	return f, nil
}

// Ack acknowledges every record Read returned: it writes the cursor after
// them and deletes the segments the cursor left behind. Like an appended
// record, the cursor survives a crash of the process at once and a crash
// of the machine after the next fsync (SyncInterval): after a power cut,
// records acknowledged in the last SyncInterval may be read again.
func (s *Spool) Ack() error {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("spool %s: %w", s.name, ErrClosed)
	}
	for s.ri < len(s.segs)-1 && s.roff >= s.segs[s.ri].size {
		s.nextReadSegment()
	}
	pos := position{s.segs[s.ri].id, s.roff}
	if pos == s.cur {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()

	if err := writeCursor(s.cf, pos); err != nil {
		return fmt.Errorf("spool %s: ack: %w", s.name, err)
	}

	s.mu.Lock()
	s.cdirty = true
	s.cur = pos
	// Appends since the first lock added as many records to both counts.
	acked := s.pendRecs - s.unreadRecs
	s.pendRecs, s.pendBytes = s.unreadRecs, s.unreadBytes
	k := 0
	for k < len(s.segs)-1 && s.segs[k].id < pos.seg {
		k++
	}
	drop := slices.Clone(s.segs[:k])
	s.segs = slices.Delete(s.segs, 0, k)
	s.ri -= k
	s.m.acked.Add(float64(acked))
	s.setGauges()
	s.mu.Unlock()

	for _, seg := range drop {
		if err := os.Remove(filepath.Join(s.dir, segName(seg.id))); err != nil {
			// Harmless: the next Open removes segments behind the cursor.
			s.log.Warn("spool: removing an acknowledged segment failed", "err", err)
		}
	}
	return nil
}

// Ready returns a channel that receives a value after Append added a
// record, so that the one reader can wait for records. It also has a
// value after Open when the spool holds records.
func (s *Spool) Ready() <-chan struct{} {
	return s.ready
}

// Unread returns how many records follow those already read.
func (s *Spool) Unread() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unreadRecs
}

// Pending returns the records, and their bytes, not yet acknowledged.
func (s *Spool) Pending() (records int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendRecs, s.pendBytes
}

// Name returns the spool's name (Options.Name).
func (s *Spool) Name() string {
	return s.name
}

// Sync fsyncs what was appended, and the cursor Ack wrote, since the
// last fsync. The spool calls it every SyncInterval; Close calls it too.
func (s *Spool) Sync() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("spool %s: %w", s.name, ErrClosed)
	}
	f, data, cursor := s.w, s.dirty, s.cdirty
	s.dirty, s.cdirty = false, false
	s.mu.Unlock()
	var errs []error
	if data {
		// A segment closed meanwhile was fsynced by rotate.
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			s.mu.Lock()
			s.dirty = true
			s.mu.Unlock()
			errs = append(errs, err)
		}
	}
	if cursor {
		if err := s.cf.Sync(); err != nil {
			s.mu.Lock()
			s.cdirty = true
			s.mu.Unlock()
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		s.m.syncFail.Inc()
		return fmt.Errorf("spool %s: sync: %w", s.name, errors.Join(errs...))
	}
	return nil
}

// syncLoop fsyncs every interval until Close.
func (s *Spool) syncLoop(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		err := s.Sync()
		switch {
		case err != nil && !errors.Is(err, ErrClosed) && !failing:
			failing = true
			s.log.Error("spool fsync failing: a power cut may lose recent records", "err", err)
		case err == nil && failing:
			failing = false
			s.log.Info("spool fsync works again")
		}
	}
}

// Close fsyncs and closes the spool. Records not acknowledged stay for
// the next Open.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	s.ackMu.Lock() // an Ack under way writes the cursor first
	defer s.ackMu.Unlock()
	var err error
	if s.w != nil && s.dirty {
		err = s.w.Sync()
	}
	if s.cf != nil && s.cdirty {
		err = errors.Join(err, s.cf.Sync())
	}
	err = errors.Join(err, s.closeFiles())
	if err != nil {
		return fmt.Errorf("close spool %s: %w", s.name, err)
	}
	return nil
}

// closeFiles closes the segment handles and releases the folder's lock.
func (s *Spool) closeFiles() error {
	var errs []error
	for _, f := range []*os.File{s.w, s.rf, s.cf, s.lock} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	s.w, s.rf, s.cf, s.lock = nil, nil, nil, nil
	return errors.Join(errs...)
}
