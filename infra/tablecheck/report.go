package tablecheck

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Write prints what was checked (items per kind, and per state within a
// kind) and every violation, one a line. Digests in item keys are
// shortened.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "table %s, checked at %s\n", r.Table, r.CheckedAt.Format(time.RFC3339))
	for _, kind := range Kinds {
		n := r.Counts.Kind[kind]
		if n == 0 && kind == KindUnknown {
			continue
		}
		line := fmt.Sprintf("  %-17s %7d", kind, n)
		if states := r.Counts.State[kind]; len(states) > 0 {
			var parts []string
			for _, s := range slices.Sorted(maps.Keys(states)) {
				parts = append(parts, fmt.Sprintf("%s %d", s, states[s]))
			}
			line += "  (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
	if r.Rechecked > 0 {
		fmt.Fprintf(w, "%d violation(s) seen by the scan were gone when read again (changed meanwhile)\n", r.Rechecked)
	}
	for _, v := range r.Violations {
		fmt.Fprintln(w, "VIOLATION", v)
	}
	fmt.Fprintf(w, "%d violation(s)\n", len(r.Violations))
}
