// Package evidence makes and checks evidence packages: a clip of a camera's
// recording, handed to someone outside the engine (traffic police, a
// court), in a form anyone can check later without trusting the engine.
//
// # What a package is
//
// Export writes one ZIP file holding:
//
//	manifest.json           what the package is and what it holds (Manifest)
//	manifest.sig            Ed25519 signature of the exact bytes of manifest.json (64 bytes)
//	README.txt              a short note for the recipient: what this is, how to check it
//	clip.mp4                the clip, cut by record.Export (browser-playable MP4)
//	clip.mp4.manifest.json  the recorder's own manifest of the clip (record.Clip)
//	snapshots/NAME.jpg      evidence snapshots of events, when given
//
// The manifest records what the regulation asks of every extraction
// purpose, the requester, the operator, the time,
// and for sharing outside the operator's agency the written approval's
// reference. It lists every other file with its size and sha256,
// the recorded segments the clip was cut from with the sha256 the
// recording index holds for them, the parts of the range with no
// recording, and the node's public key. The caller (the HTTP API) writes
// the audit entry; this package does not know the audit log.
//
// # Keys
//
// Each node signs with its own Ed25519 key, kept under the data folder in
// keys/node_ed25519 (PKCS #8, PEM, mode 0600) with the public half in
// keys/node_ed25519.pub (PKIX, PEM). LoadOrCreateKey makes the pair on
// first use. A key's fingerprint is "sha256:" followed by the hex sha256 of
// the 32 raw public key bytes.
//
// # Checking
//
// Verify checks a package (the ZIP, or the folder it was unzipped into):
// the signature, every listed file's size and sha256, that no file is
// present that the manifest does not list, and that every listed path is
// a plain relative path inside the package. Without a trusted public key
// the signature only proves the package is unchanged since whoever holds
// the key named in the manifest signed it; with the node's public key
// (obtained separately) it proves the node made it.
package evidence
