package tablecheck

import (
	"maps"
	"slices"
	"strings"
)

// view is a snapshot of the table decoded by kind, with the violations
// found while decoding (malformed and unknown items).
type view struct {
	records  map[string]*keyRecord   // by key id
	values   map[string]*sealedValue // by key id
	digests  map[string]*digestItem  // by partition key
	refresh  []*refreshItem
	families map[string]*familyMarker // by family id
	rates    []*rateCount
	idem     []*idemItem
	onboard  []*onboardClaim
	counts   Counts
	found    []Violation
}

// Counts are the items checked, by kind, and by state within a kind.
type Counts struct {
	Kind  map[string]int
	State map[string]map[string]int
}

func (c Counts) add(kind, state string) {
	if state == "" {
		return
	}
	if c.State[kind] == nil {
		c.State[kind] = map[string]int{}
	}
	c.State[kind][state]++
}

// newView decodes a snapshot. Items are visited in key order so that the
// violations come out in a stable order.
func newView(snap map[Ref]Item) *view {
	v := &view{
		records:  map[string]*keyRecord{},
		values:   map[string]*sealedValue{},
		digests:  map[string]*digestItem{},
		families: map[string]*familyMarker{},
		counts:   Counts{Kind: map[string]int{}, State: map[string]map[string]int{}},
	}
	refs := slices.SortedFunc(maps.Keys(snap), func(a, b Ref) int {
		if c := strings.Compare(a.PK, b.PK); c != 0 {
			return c
		}
		return strings.Compare(a.SK, b.SK)
	})
	for _, ref := range refs {
		v.add(ref, snap[ref])
	}
	return v
}

func (v *view) report(rule string, item Ref, detail string, related ...Ref) {
	v.found = append(v.found, Violation{Rule: rule, Item: item, Detail: detail, Related: related})
}

// add decodes one item into its kind's collection.
func (v *view) add(ref Ref, it Item) {
	kind := kindOf(ref)
	v.counts.Kind[kind]++
	if _, ok := it[attrGSI1PK]; ok && kind != KindRecord {
		v.report(RuleMalformed, ref, "carries gsi1pk: it would show in a merchant's key listing")
	}
	var err error
	switch kind {
	case KindRecord:
		k := &keyRecord{ref: ref}
		if err = decode(it, k); err == nil {
			v.records[strings.TrimPrefix(ref.PK, pfxKey)] = k
			v.counts.add(kind, map[bool]string{true: "revoked", false: "live"}[k.revoked()])
		}
	case KindValue:
		s := &sealedValue{ref: ref}
		if err = decode(it, s); err == nil {
			v.values[strings.TrimPrefix(ref.PK, pfxKey)] = s
		}
	case KindDigest:
		d := &digestItem{ref: ref}
		if err = decode(it, d); err == nil {
			v.digests[ref.PK] = d
		}
	case KindRefresh:
		r := &refreshItem{ref: ref}
		if err = decode(it, r); err == nil {
			v.refresh = append(v.refresh, r)
			switch {
			case r.stub():
				v.counts.add(kind, "revoked stub")
			case r.head():
				v.counts.add(kind, "latest of its family")
			default:
				v.counts.add(kind, "rotated or revoked")
			}
		}
	case KindFamily:
		f := &familyMarker{ref: ref}
		if err = decode(it, f); err == nil {
			v.families[strings.TrimPrefix(ref.PK, pfxFamily)] = f
		}
	case KindIdem:
		i := &idemItem{ref: ref}
		if err = decode(it, i); err == nil {
			v.idem = append(v.idem, i)
			v.counts.add(kind, i.State)
		}
	case KindRate:
		c := &rateCount{ref: ref}
		if err = decode(it, c); err == nil {
			v.rates = append(v.rates, c)
		}
	case KindOnboard:
		o := &onboardClaim{ref: ref}
		if err = decode(it, o); err == nil {
			v.onboard = append(v.onboard, o)
		}
	default:
		v.report(RuleUnknownItem, ref, "no item of this shape is written by the service")
	}
	if err != nil {
		v.report(RuleMalformed, ref, err.Error())
	}
}
