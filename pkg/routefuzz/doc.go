// Package routefuzz fuzzes every route's handling of outside input (JSON
// and form bodies, Basic credentials, query strings and cursors, path
// segments, Idempotency-Key headers) through the real handlers, on
// in-memory stores and an in-memory signer, so it needs no emulator. Each
// target checks that no input gets a 5xx (a panic would be one: the
// middleware recovers it as a 500), that every answer is a JSON object with
// an errors array, and that the same request always gets the same answer.
// It has no code of its own.
package routefuzz
