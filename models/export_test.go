package models

// Internals the tests of package models_test check.
const (
	MaxCallerInputs = maxCallerInputs
	CallerInputIdle = callerInputIdle
)

// BoundInputs returns how many caller buffers d's session keeps bound.
func BoundInputs(d *Detector) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.r.callers)
}
