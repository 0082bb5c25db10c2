// Package e2e holds the flows that cross routes, run on the whole stack
// over the local emulators: revocation through DELETE and roll reaching
// tokens and refresh families, rolls that evict, secrets never logged,
// failure timing, dependencies slow or down (every writing route under
// faults injected through infra/faultproxy), the AWS calls of each route,
// JSON bodies in general, and the route benchmarks against their floors.
// It has no code of its own.
package e2e
