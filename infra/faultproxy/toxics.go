package faultproxy

import (
	"bytes"
	"encoding/json"
	"io"
	"time"
)

// Direction is the way a toxic acts on: the requests going to the
// dependency or the answers coming back.
type Direction string

// The two directions (toxiproxy's "upstream" and "downstream").
const (
	Requests Direction = "upstream"
	Answers  Direction = "downstream"
)

// Toxic is one of toxiproxy's toxics with its attributes (numbers, in
// milliseconds for times). The constructors below act on Answers; On
// moves one to the other direction.
type Toxic struct {
	Type       string
	Stream     Direction
	Attributes map[string]int64
}

// On returns the toxic acting on direction d.
func (t Toxic) On(d Direction) Toxic {
	t.Stream = d
	return t
}

// Latency delays every answer by d, give or take a random jitter (so every
// call takes about d longer): AWS-like latency for benchmarks, or a
// dependency slower than the budget.
func Latency(d, jitter time.Duration) Toxic {
	return Toxic{Type: "latency", Stream: Answers, Attributes: map[string]int64{"latency": d.Milliseconds(), "jitter": jitter.Milliseconds()}}
}

// Timeout lets nothing through and closes the connection after after; 0
// keeps it open forever: a dependency that hangs.
func Timeout(after time.Duration) Toxic {
	return Toxic{Type: "timeout", Stream: Answers, Attributes: map[string]int64{"timeout": after.Milliseconds()}}
}

// ResetPeer resets the connection (TCP RST) once data arrives, after
// after: on Answers, the dependency did the work and its answer is lost.
func ResetPeer(after time.Duration) Toxic {
	return Toxic{Type: "reset_peer", Stream: Answers, Attributes: map[string]int64{"timeout": after.Milliseconds()}}
}

// SlowClose holds a connection open for delay after the other side closed it.
func SlowClose(delay time.Duration) Toxic {
	return Toxic{Type: "slow_close", Stream: Answers, Attributes: map[string]int64{"delay": delay.Milliseconds()}}
}

// LimitData closes a connection once n bytes went through it.
func LimitData(n int64) Toxic {
	return Toxic{Type: "limit_data", Stream: Answers, Attributes: map[string]int64{"bytes": n}}
}

// json is the toxic as toxiproxy's API takes it.
func (t Toxic) json() (io.Reader, error) {
	b, err := json.Marshal(struct {
		Name       string           `json:"name"`
		Type       string           `json:"type"`
		Stream     Direction        `json:"stream"`
		Toxicity   float32          `json:"toxicity"`
		Attributes map[string]int64 `json:"attributes"`
	}{t.Type + "_" + string(t.Stream), t.Type, t.Stream, 1, t.Attributes})
	return bytes.NewReader(b), err
}
