package emulator

import (
	"bytes"
	"io"
	"sync"
)

// lockedWriter serialises the emulators' writes to the shared Options.Log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newLockedWriter(w io.Writer) *lockedWriter {
	if w == nil {
		return nil
	}
	return &lockedWriter{w: w}
}

// prefixed returns a writer that prefixes each line with "[tag] "; nil if lw is.
func (lw *lockedWriter) prefixed(tag string) io.Writer {
	if lw == nil {
		return nil
	}
	return &prefixWriter{lw: lw, prefix: []byte("[" + tag + "] "), atStart: true}
}

// prefixWriter is used by a single process's output copier, so its own state
// needs no lock; the shared destination is locked per write.
type prefixWriter struct {
	lw      *lockedWriter
	prefix  []byte
	atStart bool
}

func (pw *prefixWriter) Write(b []byte) (int, error) {
	var out []byte
	for rest := b; len(rest) > 0; {
		if pw.atStart {
			out = append(out, pw.prefix...)
			pw.atStart = false
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			out = append(out, rest...)
			break
		}
		out = append(out, rest[:i+1]...)
		rest = rest[i+1:]
		pw.atStart = true
	}
	pw.lw.mu.Lock()
	defer pw.lw.mu.Unlock()
	if _, err := pw.lw.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
