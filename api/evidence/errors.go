package evidence

import "errors"

// Errors callers branch on.
var (
	// ErrInvalidRequest is returned by Export and Request.Validate for a
	// request with a missing or malformed field; the message names it.
	ErrInvalidRequest = errors.New("invalid evidence request")
	// ErrApprovalRequired is returned by Export and Request.Validate for a
	// request from outside the operator's agency without the written
	// approval's reference.
	ErrApprovalRequired = errors.New("approval reference required")

	// ErrBadKey is returned by LoadOrCreateKey and ReadPublicKey for a key
	// file that does not hold an Ed25519 key.
	ErrBadKey = errors.New("bad key file")
	// ErrKeyPermissions is returned by LoadOrCreateKey when the private
	// key file can be read or written by others than its owner.
	ErrKeyPermissions = errors.New("private key file open to others")
	// ErrKeyMismatch is returned by LoadOrCreateKey when the public key
	// file does not belong to the private key.
	ErrKeyMismatch = errors.New("public key does not match private key")

	// ErrNotPackage is returned by Verify for a path that is neither a ZIP
	// file nor a folder holding a readable manifest and signature.
	ErrNotPackage = errors.New("not an evidence package")
	// ErrSignature is a problem found by Verify: the signature does not
	// verify against the key the manifest names.
	ErrSignature = errors.New("bad signature")
	// ErrUntrustedKey is a problem found by Verify: the package was not
	// signed by the trusted key it was given.
	ErrUntrustedKey = errors.New("not signed by the trusted key")
	// ErrFileMismatch is a problem found by Verify: a listed file's size
	// or sha256 is not the manifest's.
	ErrFileMismatch = errors.New("file does not match the manifest")
	// ErrMissingFile is a problem found by Verify: a listed file is absent.
	ErrMissingFile = errors.New("listed file missing")
	// ErrUnlistedFile is a problem found by Verify: a file the manifest
	// does not list is present.
	ErrUnlistedFile = errors.New("file not in the manifest")
	// ErrUnsafePath is a problem found by Verify: a path in the manifest
	// or the package is not a plain relative path inside the package, or
	// is there twice.
	ErrUnsafePath = errors.New("unsafe path")
	// ErrBadManifest is a problem found by Verify: the manifest is not
	// consistent with itself (schema, key, fingerprint).
	ErrBadManifest = errors.New("bad manifest")
)
