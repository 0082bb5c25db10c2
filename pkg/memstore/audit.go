package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/flexfactor/credplane/pkg/audit"
)

var _ audit.Store = (*Store)(nil)

// appendEvent adds an audit event written with a change; the caller holds
// the lock and the change has passed its conditions. Events are never
// changed or removed.
func (st *Store) appendEvent(ev *audit.Event) {
	if ev == nil {
		return
	}
	e := *ev
	e.OccurredAt = sec(e.OccurredAt)
	st.events[e.MID] = append(st.events[e.MID], e)
}

// ListEvents returns a merchant's events newest first (by id), after
// q.After, filtered by key and action; more reports whether another
// follows the page.
func (st *Store) ListEvents(_ context.Context, q audit.Query) ([]audit.Event, bool, error) {
	st.lock()
	defer st.mu.Unlock()
	all := slices.Clone(st.events[q.MID])
	slices.SortFunc(all, func(a, b audit.Event) int { return strings.Compare(b.ID, a.ID) })
	var out []audit.Event
	for _, e := range all {
		if (q.After != "" && e.ID >= q.After) || (q.KeyID != "" && e.KeyID != q.KeyID) || (q.Action != "" && e.Action != q.Action) {
			continue
		}
		if len(out) == q.Limit {
			return out, true, nil
		}
		out = append(out, e)
	}
	return out, false, nil
}
