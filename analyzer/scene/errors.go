package scene

import "errors"

// ErrInvalidScene is wrapped by every error of Parse, Load and Validate that
// is about the scene's content (as opposed to reading the file).
var ErrInvalidScene = errors.New("invalid scene")
