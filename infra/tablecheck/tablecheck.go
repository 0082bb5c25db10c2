// Package tablecheck checks the invariants that hold between the items of
// a credential table: every live key has exactly the lookup items of its
// current value and of a previous value still in its grace period, every
// lookup item names a live key and agrees with it, sealed values, refresh
// tokens, idempotency records and onboarding claims name keys that exist
// and belong to their merchant, and nothing is left over.
//
// It only reads (Scan and GetItem: its client interface has no other
// method), so operators can run it against a production table. A scan is
// not a snapshot: on a table taking traffic an item can change while the
// scan runs. Every violation found is therefore read again, with the items
// it depends on, and checked again; only what survives is reported.
package tablecheck

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Reader is the subset of the DynamoDB API the checker calls: reads only.
type Reader interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Violation is one broken invariant.
type Violation struct {
	// Rule is one of the Rule constants.
	Rule string
	// Item is the item that breaks it.
	Item   Ref
	Detail string
	// Related are the other items the verdict depends on.
	Related []Ref
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s: %s", v.Item, v.Rule, v.Detail) }

// Report is the outcome of a check.
type Report struct {
	Table      string
	CheckedAt  time.Time
	Counts     Counts
	Violations []Violation
	// Rechecked counts the violations found by the scan that were gone
	// when their items were read again (changed by traffic meanwhile).
	Rechecked int
}

// Checker checks one table.
type Checker struct {
	Client Reader
	Table  string
	// Segments is how many parallel scans read the table (at least 1).
	Segments int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// confirmRounds bounds how often violations are read and checked again.
const confirmRounds = 3

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// Run scans the table with strongly consistent reads, checks every
// invariant, and confirms each violation by reading its items again.
func (c *Checker) Run(ctx context.Context) (*Report, error) {
	snap, err := c.scan(ctx)
	if err != nil {
		return nil, err
	}
	found, counts := check(snap, c.now())
	first := len(found)
	for round := 0; round < confirmRounds && len(found) > 0; round++ {
		if err := c.reread(ctx, snap, found); err != nil {
			return nil, err
		}
		again, _ := check(snap, c.now())
		same := slices.EqualFunc(again, found, func(a, b Violation) bool { return a.Rule == b.Rule && a.Item == b.Item })
		found = again
		if same {
			break
		}
	}
	return &Report{
		Table:      c.Table,
		CheckedAt:  c.now(),
		Counts:     counts,
		Violations: found,
		Rechecked:  max(0, first-len(found)),
	}, nil
}

// scan reads every item of the table.
func (c *Checker) scan(ctx context.Context) (map[Ref]Item, error) {
	segments := max(c.Segments, 1)
	snap := map[Ref]Item{}
	var mu sync.Mutex
	errs := make([]error, segments)
	var wg sync.WaitGroup
	for seg := range segments {
		wg.Go(func() {
			in := &dynamodb.ScanInput{TableName: aws.String(c.Table), ConsistentRead: aws.Bool(true)}
			if segments > 1 {
				in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(segments))
			}
			for {
				out, err := c.Client.Scan(ctx, in)
				if err != nil {
					errs[seg] = fmt.Errorf("scan %s: %w", c.Table, err)
					return
				}
				mu.Lock()
				for _, it := range out.Items {
					ref, ok := refOf(it)
					if !ok {
						ref = Ref{PK: fmt.Sprintf("(item without string keys #%d)", len(snap)), SK: "?"}
					}
					snap[ref] = it
				}
				mu.Unlock()
				if len(out.LastEvaluatedKey) == 0 {
					return
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// reread reads the items of the violations again into snap (strongly
// consistent), removing those that are gone.
func (c *Checker) reread(ctx context.Context, snap map[Ref]Item, found []Violation) error {
	seen := map[Ref]bool{}
	for _, v := range found {
		for _, ref := range append([]Ref{v.Item}, v.Related...) {
			if seen[ref] || kindOf(ref) == KindUnknown && ref.SK == "?" {
				continue
			}
			seen[ref] = true
			out, err := c.Client.GetItem(ctx, &dynamodb.GetItemInput{
				TableName:      aws.String(c.Table),
				Key:            Item{"pk": &types.AttributeValueMemberS{Value: ref.PK}, "sk": &types.AttributeValueMemberS{Value: ref.SK}},
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				return fmt.Errorf("read %s again: %w", ref, err)
			}
			if out.Item == nil {
				delete(snap, ref)
			} else {
				snap[ref] = out.Item
			}
		}
	}
	return nil
}
