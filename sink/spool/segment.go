package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// MaxRecordBytes bounds one record's payload: an event is well under a
// kilobyte, and a bound lets a damaged length be told from a real one.
const MaxRecordBytes = 1 << 20

// The segment format.
const (
	// segMagic starts every segment file; it names the format's version.
	segMagic = "MTSPOOL1"
	// segStart is the offset of a segment's first record.
	segStart = int64(len(segMagic))
	// recHeader is a record's length and checksum, before its payload.
	recHeader = 8
	// segSuffix ends segment file names, which are the segment's number.
	segSuffix = ".seg"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTorn says the bytes at an offset are not a whole, intact record.
var errTorn = errors.New("torn or damaged record")

// appendRecord appends payload to buf as one framed record.
func appendRecord(buf, payload []byte) []byte {
	var h [recHeader]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(len(payload)))
	sum := crc32.Update(crc32.Update(0, castagnoli, h[:4]), castagnoli, payload)
	binary.LittleEndian.PutUint32(h[4:], sum)
	return append(append(buf, h[:]...), payload...)
}

// parseRecord returns the payload of the record at the start of b and the
// record's length. It returns io.ErrUnexpectedEOF when b holds only the
// start of a record, errTorn when the record is damaged.
func parseRecord(b []byte) (payload []byte, n int, err error) {
	if len(b) < recHeader {
		return nil, 0, io.ErrUnexpectedEOF
	}
	size := binary.LittleEndian.Uint32(b[:4])
	if size > MaxRecordBytes {
		return nil, 0, errTorn
	}
	n = recHeader + int(size)
	if len(b) < n {
		return nil, 0, io.ErrUnexpectedEOF
	}
	sum := crc32.Update(crc32.Update(0, castagnoli, b[:4]), castagnoli, b[recHeader:n])
	if sum != binary.LittleEndian.Uint32(b[4:recHeader]) {
		return nil, 0, errTorn
	}
	return b[recHeader:n], n, nil
}

// scanRecords reads records from r until the first that is incomplete or
// damaged, or the end, and returns how many intact records it read and
// their total length.
func scanRecords(r io.Reader) (records int, valid int64, err error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var h [recHeader]byte
	buf := make([]byte, 0, 4096)
	for {
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return records, valid, readErr(err)
		}
		size := binary.LittleEndian.Uint32(h[:4])
		if size > MaxRecordBytes {
			return records, valid, nil
		}
		buf = append(buf[:0], h[:]...)
		buf = slices.Grow(buf, int(size))[:recHeader+int(size)]
		if _, err := io.ReadFull(br, buf[recHeader:]); err != nil {
			return records, valid, readErr(err)
		}
		if _, n, err := parseRecord(buf); err != nil {
			return records, valid, nil
		} else {
			records++
			valid += int64(n)
		}
	}
}

// readErr hides the ends of data (a torn tail is not an I/O error).
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// segName is the file name of segment id.
func segName(id uint64) string {
	return fmt.Sprintf("%020d%s", id, segSuffix)
}

// listSegments returns the numbers of the segment files in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segSuffix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 64)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("%w: %s is not a segment name", ErrCorrupt, filepath.Join(dir, e.Name()))
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// syncDir makes the folder's entries (created, renamed, removed files) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
