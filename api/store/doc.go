// Package store is the metadata store: agencies, camera systems, cameras,
// users, grants, incidents and sessions, in SQLite (modernc.org/sqlite,
// pure Go) by default, with the audit log (api/audit) in the same database.
//
// # Schema
//
// Versioned migrations in migrations/NNNN_name.sql, applied in order by
// Open and recorded in schema_migrations. They are written in SQL that
// runs unchanged on PostgreSQL: TEXT ids, times as BIGINT Unix
// milliseconds UTC (NULL when not set), booleans as INTEGER 0/1, lists as
// comma-separated TEXT, no AUTOINCREMENT, no SQLite-only statements.
// Queries use $1-style placeholders, which both databases accept.
//
// # Changes are audited
//
// Every method that changes data takes the audit.Actor doing it and writes
// an audit entry (action, object, before and after as JSON) in the same
// transaction as the change. Before/after never hold a password
// hash, a stream URL or a credential.
//
// # Secrets
//
// A camera's stream URL and credentials (CameraSecret) are sealed with
// AES-256-GCM under the key given to Open, bound to the camera id.
// No method returns them except CameraSecret, for ingest; the Camera type
// only says whether they are set. Password hashes leave the store only
// through PasswordHash, for api/auth.
//
// # Access
//
// Can is the one access rule of the design (R-1.1, R-7.2, R-7.4, R-8.1–8.3);
// Store.Can and Store.VisibleCameras apply it to stored data.
package store
