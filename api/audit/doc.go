// Package audit is the append-only, hash-chained audit log the regulation
// asks for: every login, data change, live view,
// playback and export becomes an Entry saying who (user, agency, client
// address), what (action, object, before/after), why and for whom
// (purpose, requester) and when.
//
// # Where the log lives, and why
//
// Entries are rows of the audit_entries table in the metadata database
// (schema in api/store/migrations), not a separate file. A data change and
// its audit entry are written in one transaction (Append takes the
// caller's *sql.Tx), so there is never a change without its entry nor an
// entry for a change that was rolled back; and one backup holds both. The
// code only ever inserts into audit_entries: there is no update or delete.
//
// # Hash chain
//
// Entry n stores Hash(n) = SHA-256(Hash(n-1) || canonical bytes of entry n)
// with Hash(0) = 32 zero bytes. The canonical bytes are every field in a
// fixed order, each preceded by its length (see Entry.canonical), so no two
// different entries encode alike. Sequence numbers are dense from 1, and a
// one-row table audit_head holds the last sequence number and hash. Verify
// walks the chain and reports the first entry that was edited, inserted,
// deleted or re-numbered, and a truncated tail (head ahead of the rows).
// Someone who can write the database and recompute every later hash and
// the head can forge a consistent chain: to catch that, keep the head hash
// that `matthan audit verify` prints somewhere else and compare it later
// (Report.Head).
//
// Serialisation: Append first bumps audit_head's sequence number, which
// takes the write lock on SQLite and a row lock on PostgreSQL, so
// concurrent appenders queue up and the chain stays linear.
package audit
