package record

import "time"

// Kinds of Incident.
const (
	// IncidentDisk: a recorder cannot write its camera's segments (disk
	// full, read-only, I/O error); the camera is not being recorded.
	IncidentDisk = "disk"
	// IncidentStorage: the recordings exceed a size cap and retention cannot
	// bring them under it without deleting recordings younger than 30 days
	//
	IncidentStorage = "storage"
)

// Incident is a storage condition an operator must act on. The
// recorder and the retention stage report them through their OnIncident
// hooks; a condition that clears is reported again with Resolved set.
type Incident struct {
	Time     time.Time // when it was detected (or cleared)
	Camera   string    // the camera concerned; empty for the whole store
	Kind     string    // IncidentDisk or IncidentStorage
	Message  string    // what happened and what it means, for people
	Resolved bool      // the condition has cleared
}
