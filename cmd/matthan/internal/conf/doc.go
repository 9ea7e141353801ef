// Package conf is the engine's configuration: embedded defaults, then a YAML
// file, then MATTHAN_* environment variables, then command-line flags, then
// Validate, whose every error names the key and what was expected.
package conf
