package evidence

import (
	"io/fs"
	"path/filepath"
	"strings"
	"time"
)

// Schema names the manifest's format; it changes when a field changes
// meaning. Verify accepts this schema only.
const Schema = "matthan.evidence/1"

// Names of the files every package holds besides those its manifest lists.
const (
	// ManifestName is the manifest's path in a package.
	ManifestName = "manifest.json"
	// SignatureName is the signature's path in a package: the 64-byte
	// Ed25519 signature of the exact bytes of ManifestName.
	SignatureName = "manifest.sig"
)

// Paths of the listed files Export writes.
const (
	// ClipName is the clip's path in a package.
	ClipName = "clip.mp4"
	// ReadmeName is the path of the note for the recipient.
	ReadmeName = "README.txt"
	// SnapshotDir is the folder of the snapshots in a package.
	SnapshotDir = "snapshots"
)

// Kinds of listed files.
const (
	KindClip         = "clip"          // the MP4 clip
	KindClipManifest = "clip_manifest" // the recorder's manifest of the clip (record.Clip)
	KindSnapshot     = "snapshot"      // an event's evidence snapshot (JPEG)
	KindReadme       = "readme"        // the note for the recipient
)

// SignatureAlgorithm is the only signature algorithm of Schema.
const SignatureAlgorithm = "ed25519"

// Purpose is what an export serves. Its values are those of the
// metadata store's purposes.
type Purpose string

// The purposes of.
const (
	PurposeSecurity   Purpose = "security_order"    // security and order
	PurposeTraffic    Purpose = "traffic_safety"    // traffic safety
	PurposeUrban      Purpose = "urban_order"       // urban order
	PurposeRescue     Purpose = "rescue"            // rescue
	PurposeForestFire Purpose = "forest_fire"       // forest-fire monitoring
	PurposeSector     Purpose = "sector_management" // sector management
	PurposeOther      Purpose = "other"             // other: Request.PurposeText says what
)

// Purposes lists every purpose.
var Purposes = []Purpose{PurposeSecurity, PurposeTraffic, PurposeUrban, PurposeRescue,
	PurposeForestFire, PurposeSector, PurposeOther}

// Manifest is manifest.json: what a package is, who made it, why and for
// whom, and what it holds.
type Manifest struct {
	// Schema is the package format, Schema.
	Schema string `json:"schema"`
	// ID is the package id, a UUIDv7.
	ID string `json:"id"`
	// Created is when the package was made, UTC.
	Created time.Time `json:"created"`
	// Node names the engine that made it.
	Node string `json:"node"`
	// Camera is the camera id.
	Camera string `json:"camera"`
	// Requested is the range asked for.
	Requested Range `json:"requested"`
	// Actual is the range the clip shows: from the keyframe at or before
	// Requested.From to when its last picture stops being shown.
	Actual Range `json:"actual"`
	// Frames is the number of pictures in the clip.
	Frames int `json:"frames"`
	// Purpose is what the export serves.
	Purpose Purpose `json:"purpose"`
	// PurposeText details the purpose (a case number, or what "other"
	// means).
	PurposeText string `json:"purpose_text,omitempty"`
	// Requester is the person or agency who asked for the evidence.
	Requester string `json:"requester"`
	// Operator is who made the export.
	Operator Operator `json:"operator"`
	// OutsideAgency says the requester is outside the operator's agency.
	OutsideAgency bool `json:"outside_agency"`
	// ApprovalRef is the written approval's reference (number, date) for
	// sharing outside the agency.
	ApprovalRef string `json:"approval_ref,omitempty"`
	// Files lists every file of the package but the manifest and its
	// signature.
	Files []File `json:"files"`
	// Sources are the recorded segments the clip was cut from, with their
	// hashes from the recording index.
	Sources []Source `json:"sources"`
	// Gaps are the parts of the requested range with no recording.
	Gaps []Range `json:"gaps"`
	// Signer is the key that signed the manifest.
	Signer Signer `json:"signer"`
}

// Range is a time range, UTC.
type Range struct {
	// From is the start.
	From time.Time `json:"from"`
	// To is the end.
	To time.Time `json:"to"`
}

// Operator is the user who made an export.
type Operator struct {
	// UserID is the user's account id; empty for offline exports.
	UserID string `json:"user_id,omitempty"`
	// Name is the user's name.
	Name string `json:"name"`
	// Agency is the user's agency.
	Agency string `json:"agency,omitempty"`
}

// File is a file of a package.
type File struct {
	// Path is the file's path in the package, slash-separated.
	Path string `json:"path"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the file's hex sha256.
	SHA256 string `json:"sha256"`
	// Event is the id of the event a snapshot belongs to, when known.
	Event string `json:"event,omitempty"`
}

// Source is a recorded segment a clip was cut from.
type Source struct {
	// Path is the segment file under the camera's recordings folder.
	Path string `json:"path"`
	// Start and End are the segment's range.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Size and SHA256 are the segment's size and hex sha256 as the index
	// records them (of its complete parts, for a segment still open).
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Open says the segment was still being written.
	Open bool `json:"open,omitempty"`
}

// Signer names the key that signed a manifest.
type Signer struct {
	// Algorithm is SignatureAlgorithm.
	Algorithm string `json:"algorithm"`
	// PublicKey is the base64 of the 32 raw public key bytes.
	PublicKey string `json:"public_key"`
	// Fingerprint is the key's Fingerprint.
	Fingerprint string `json:"fingerprint"`
}

// safePath reports whether p may name a file inside a package: a
// slash-separated relative path with no "." or ".." element, no empty
// element, and no backslash, colon or control character (recipients unzip
// packages on Windows too).
func safePath(p string) bool {
	if !fs.ValidPath(p) || p == "." || strings.ContainsAny(p, `\:`) {
		return false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return filepath.IsLocal(filepath.FromSlash(p))
}

// reserved reports whether p is the path of the manifest or its signature.
func reserved(p string) bool { return p == ManifestName || p == SignatureName }
