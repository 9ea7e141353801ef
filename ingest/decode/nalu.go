package decode

import (
	"encoding/binary"
	"fmt"

	"github.com/matthan/matthan/ingest"
)

// NAL unit types this package looks at.
const (
	h264NALIDR = 5
	h264NALSPS = 7
	h264NALPPS = 8

	h265NALVPS = 32
	h265NALSPS = 33
	h265NALPPS = 34
)

// nalType returns the NAL unit type of n for codec c, or -1 for an empty unit.
func nalType(c ingest.Codec, n []byte) int {
	if len(n) == 0 {
		return -1
	}
	if c == ingest.H265 {
		return int(n[0]>>1) & 0x3f
	}
	return int(n[0]) & 0x1f
}

// validNALHeader reports whether n starts with a NAL unit header that is not
// obviously corrupt: forbidden_zero_bit clear and, for H.265, a complete
// two-byte header with a non-zero temporal id.
func validNALHeader(c ingest.Codec, n []byte) bool {
	if len(n) == 0 || n[0]&0x80 != 0 {
		return false
	}
	if c == ingest.H265 {
		return len(n) >= 2 && n[1]&0x07 != 0
	}
	return true
}

// splitAnnexB appends to dst the NAL units of the Annex-B byte stream b,
// without start codes and without the zero bytes that precede start codes.
// The units alias b.
func splitAnnexB(b []byte, dst [][]byte) ([][]byte, error) {
	start, zeros := -1, 0
	for i, c := range b {
		switch {
		case c == 0:
			zeros++
			continue
		case c == 1 && zeros >= 2:
			if start >= 0 {
				if end := i - zeros; end > start {
					dst = append(dst, b[start:end])
				}
			} else if i-zeros != 0 {
				return dst, fmt.Errorf("%w: %d bytes before the first start code", ErrBitstream, i-zeros)
			}
			start = i + 1
		case start < 0:
			return dst, fmt.Errorf("%w: no Annex-B start code", ErrBitstream)
		}
		zeros = 0
	}
	if start < 0 {
		return dst, fmt.Errorf("%w: no Annex-B start code", ErrBitstream)
	}
	// A NAL unit ends with the RBSP stop bit, so trailing zero bytes are
	// trailing_zero_8bits and not part of it.
	end := len(b)
	for end > start && b[end-1] == 0 {
		end--
	}
	if end > start {
		dst = append(dst, b[start:end])
	}
	return dst, nil
}

// isAnnexB reports whether b starts with an Annex-B start code.
func isAnnexB(b []byte) bool {
	return len(b) >= 3 && b[0] == 0 && b[1] == 0 && (b[2] == 1 || (len(b) >= 4 && b[2] == 0 && b[3] == 1))
}

// splitLengthPrefixed appends to dst the NAL units of b, a sequence of NAL
// units each preceded by its big-endian length in size bytes (AVCC/HVCC
// framing, size 1, 2 or 4). The units alias b.
func splitLengthPrefixed(b []byte, size int, dst [][]byte) ([][]byte, error) {
	if size != 1 && size != 2 && size != 4 {
		return dst, fmt.Errorf("%w: NAL length size %d", ErrBitstream, size)
	}
	for len(b) > 0 {
		if len(b) < size {
			return dst, fmt.Errorf("%w: truncated NAL length", ErrBitstream)
		}
		var n uint64
		for _, c := range b[:size] {
			n = n<<8 | uint64(c)
		}
		b = b[size:]
		if n > uint64(len(b)) {
			return dst, fmt.Errorf("%w: NAL length %d exceeds the %d bytes left", ErrBitstream, n, len(b))
		}
		if n > 0 {
			dst = append(dst, b[:n])
		}
		b = b[n:]
	}
	return dst, nil
}

// configRecord is what a container's extradata says about the stream.
type configRecord struct {
	params *ingest.StreamParams
	// lengthSize is the NAL length size of length-prefixed packets, or 0 when
	// the packets are Annex-B.
	lengthSize int
}

// parseExtradata reads the codec configuration of an H.264 or H.265 stream:
// an AVCDecoderConfigurationRecord (avcC), an HEVCDecoderConfigurationRecord
// (hvcC) or Annex-B parameter sets. The returned slices are copies.
func parseExtradata(c ingest.Codec, b []byte) (configRecord, error) {
	p := &ingest.StreamParams{Codec: c}
	if len(b) == 0 {
		return configRecord{params: p}, nil
	}
	if isAnnexB(b) {
		nalus, err := splitAnnexB(b, nil)
		if err != nil {
			return configRecord{}, err
		}
		for _, n := range nalus {
			setParam(p, n)
		}
		return configRecord{params: p}, nil
	}
	if c == ingest.H265 {
		return parseHVCC(p, b)
	}
	return parseAVCC(p, b)
}

// setParam stores n in p if it is a parameter set; the first of each kind wins.
func setParam(p *ingest.StreamParams, n []byte) {
	var dst *[]byte
	switch t := nalType(p.Codec, n); {
	case p.Codec == ingest.H265 && t == h265NALVPS:
		dst = &p.VPS
	case p.Codec == ingest.H265 && t == h265NALSPS, p.Codec != ingest.H265 && t == h264NALSPS:
		dst = &p.SPS
	case p.Codec == ingest.H265 && t == h265NALPPS, p.Codec != ingest.H265 && t == h264NALPPS:
		dst = &p.PPS
	default:
		return
	}
	if *dst == nil {
		*dst = append([]byte(nil), n...)
	}
}

// parseAVCC reads an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1).
func parseAVCC(p *ingest.StreamParams, b []byte) (configRecord, error) {
	bad := func(what string) (configRecord, error) {
		return configRecord{}, fmt.Errorf("%w: avcC record: %s", ErrBitstream, what)
	}
	if len(b) < 7 || b[0] != 1 {
		return bad("too short or not version 1")
	}
	lengthSize := int(b[4]&0x03) + 1
	if lengthSize == 3 {
		return bad("NAL length size 3")
	}
	r := b[5:]
	for _, count := range []int{0, 1} { // the SPS list, then the PPS list
		if len(r) < 1 {
			return bad("truncated")
		}
		n := int(r[0])
		if count == 0 {
			n &= 0x1f
		}
		r = r[1:]
		for range n {
			if len(r) < 2 {
				return bad("truncated")
			}
			l := int(binary.BigEndian.Uint16(r))
			if len(r) < 2+l {
				return bad("truncated parameter set")
			}
			setParam(p, r[2:2+l])
			r = r[2+l:]
		}
	}
	return configRecord{params: p, lengthSize: lengthSize}, nil
}

// parseHVCC reads an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1).
func parseHVCC(p *ingest.StreamParams, b []byte) (configRecord, error) {
	bad := func(what string) (configRecord, error) {
		return configRecord{}, fmt.Errorf("%w: hvcC record: %s", ErrBitstream, what)
	}
	if len(b) < 23 || b[0] != 1 {
		return bad("too short or not version 1")
	}
	lengthSize := int(b[21]&0x03) + 1
	if lengthSize == 3 {
		return bad("NAL length size 3")
	}
	arrays := int(b[22])
	r := b[23:]
	for range arrays {
		if len(r) < 3 {
			return bad("truncated")
		}
		n := int(binary.BigEndian.Uint16(r[1:]))
		r = r[3:]
		for range n {
			if len(r) < 2 {
				return bad("truncated")
			}
			l := int(binary.BigEndian.Uint16(r))
			if len(r) < 2+l {
				return bad("truncated parameter set")
			}
			setParam(p, r[2:2+l])
			r = r[2+l:]
		}
	}
	return configRecord{params: p, lengthSize: lengthSize}, nil
}
