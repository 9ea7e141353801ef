package clickhouse

import "errors"

// ErrLibraryNotFound is returned by OpenEmbedded when libchdb.so cannot be loaded.
var ErrLibraryNotFound = errors.New("chDB library not found")

// ErrEmbeddedInUse is returned by OpenEmbedded while another embedded
// connection is open in the process (chDB allows only one).
var ErrEmbeddedInUse = errors.New("an embedded chDB connection is already open in this process")

// ErrClosed is returned by a Backend used after Close.
var ErrClosed = errors.New("backend closed")

// ErrRetentionTooShort is returned by Store.Migrate when Retention is below
// the regulation's 30-day minimum.
var ErrRetentionTooShort = errors.New("retention shorter than 30 days")

// ErrNotFound is returned by Store.Event for an id no stored event has.
var ErrNotFound = errors.New("not found")

// ErrBadArgument is returned for query arguments out of range or malformed.
var ErrBadArgument = errors.New("bad argument")

// ErrSchemaNewer is returned by Store.Migrate on a store migrated by a newer
// version of this package: it does not downgrade schemas.
var ErrSchemaNewer = errors.New("store schema is newer than this binary")

// ErrSchemaOutdated is returned by Store.CheckSchema when the store was not
// migrated to LatestSchema yet.
var ErrSchemaOutdated = errors.New("store schema is not up to date")
