package apikeyapi

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
)

// query reads a listing's parameters and collects every problem, in the
// order they are read: unknown parameters (by name) first.
type query struct {
	values   url.Values
	problems []string
}

func newQuery(q url.Values, allowed ...string) *query {
	r := &query{values: q}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			r.problems = append(r.problems, fmt.Sprintf("Unknown parameter: %s.", name))
		}
	}
	return r
}

// param returns a parameter and whether it was sent; one sent twice, or
// one valid refuses, adds msg (valid nil accepts any value).
func (r *query) param(name, msg string, valid func(string) bool) (string, bool) {
	if _, sent := r.values[name]; !sent {
		return "", false
	}
	v, once := single(r.values, name)
	if !once || (valid != nil && !valid(v)) {
		r.problems = append(r.problems, msg)
	}
	return v, true
}

// limit reads limit, 1 to maxLimit; def when absent.
func (r *query) limit(def, maxLimit int, msg string) int {
	v, sent := r.param("limit", msg, func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= 1 && n <= maxLimit
	})
	if !sent {
		return def
	}
	n, _ := strconv.Atoi(v)
	return n
}
