// Package api is the engine's HTTP face: health, Prometheus metrics, the
// cameras' status, recent events and a live event stream (server-sent
// events). Authentication and the regulation's access rules come with the
// metadata store; until then the API serves read-only status and events.
package api
