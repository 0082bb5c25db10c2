// Package crashtest kills the API server with SIGKILL at random points
// while it serves a stream of creates (some idempotent), rolls, deletes,
// token exchanges, refreshes and revocations, starts it again on the same
// table, and at the end checks every invariant of the table
// (infra/tablecheck) and that each idempotent create, retried after the
// crashes with its Idempotency-Key, made exactly one key. The server is
// infra/cmd/stageserver, built and run as a separate process. CRASH_CYCLES
// (default 10) sets the number of kills; CRASH_SEED replays a run.
// It has no code of its own.
package crashtest
