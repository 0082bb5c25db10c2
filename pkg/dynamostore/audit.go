package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/audit"
	"github.com/flexfactor/credplane/pkg/awserr"
)

var _ audit.Store = (*Store)(nil)

// The audit table (AUDIT_TABLE_NAME) holds one item per event, written by
// the transaction of the change it records and never updated or deleted
// (no role may): pk MID#<mid>, sk the event id (evt_<ULID>, so a Query
// newest first is the trail's order), ttl the end of its retention.

// itemAudit names the audit event of a transaction.
const itemAudit = "audit event"

// auditEvent is an event as the audit table keeps it. Details are kept as
// a JSON string: they are for people and auditors, never queried.
type auditEvent struct {
	key
	ID         string `dynamodbav:"id"`
	MID        string `dynamodbav:"mid"`
	Action     string `dynamodbav:"action"`
	KeyID      string `dynamodbav:"key_id"`
	ActorType  string `dynamodbav:"actor_type"`
	ActorID    string `dynamodbav:"actor_id"`
	RequestID  string `dynamodbav:"request_id"`
	SourceIP   string `dynamodbav:"source_ip"`
	UserAgent  string `dynamodbav:"user_agent"`
	OccurredAt stamp  `dynamodbav:"occurred_at"`
	Details    string `dynamodbav:"details"`
	TTL        int64  `dynamodbav:"ttl"`
}

func newAuditEvent(e audit.Event) auditEvent {
	details, err := json.Marshal(e.Details)
	if err != nil || e.Details == nil {
		details = []byte("{}")
	}
	return auditEvent{
		key: key{midPK(e.MID), e.ID},
		ID:  e.ID, MID: e.MID, Action: e.Action, KeyID: e.KeyID,
		ActorType: e.Actor.Type, ActorID: e.Actor.ID,
		RequestID: e.RequestID, SourceIP: e.SourceIP, UserAgent: e.UserAgent,
		OccurredAt: stamp(e.OccurredAt), Details: string(details), TTL: e.ExpiresAt.Unix(),
	}
}

func (a auditEvent) event() audit.Event {
	e := audit.Event{
		ID: a.ID, MID: a.MID, Action: a.Action, KeyID: a.KeyID,
		Actor:     audit.Actor{Type: a.ActorType, ID: a.ActorID},
		RequestID: a.RequestID, SourceIP: a.SourceIP, UserAgent: a.UserAgent,
		Details: map[string]any{},
	}
	if t := a.OccurredAt.time(); t != nil {
		e.OccurredAt = *t
	}
	_ = json.Unmarshal([]byte(a.Details), &e.Details)
	return e
}

// addEvent adds ev to t, on the condition that its id is new: an event is
// appended once, never replaced.
func (st *Store) addEvent(t *txn, ev *audit.Event) {
	if ev == nil {
		return
	}
	item := marshal(newAuditEvent(*ev))
	e := build(expression.NewBuilder().WithCondition(absent()))
	t.add(itemAudit, types.TransactWriteItem{Put: &types.Put{
		TableName: &st.AuditTable, Item: item,
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	}})
}

// ListEvents queries a merchant's events newest first. Filters apply
// after DynamoDB's Limit, so it reads on until it holds one event more
// than the page (which tells whether more follow) or the merchant has no
// more; the next page starts after the last event returned.
func (st *Store) ListEvents(ctx context.Context, q audit.Query) ([]audit.Event, bool, error) {
	want := q.Limit + 1
	b := expression.NewBuilder().WithKeyCondition(expression.Key(AttrPK).Equal(value(midPK(q.MID))))
	var filter expression.ConditionBuilder
	if q.KeyID != "" {
		filter = name("key_id").Equal(value(q.KeyID))
	}
	if q.Action != "" {
		byAction := name("action").Equal(value(q.Action))
		if filter.IsSet() {
			filter = filter.And(byAction)
		} else {
			filter = byAction
		}
	}
	if filter.IsSet() {
		b = b.WithFilter(filter)
	}
	e := build(b)
	in := &dynamodb.QueryInput{
		TableName:                 &st.AuditTable,
		KeyConditionExpression:    e.KeyCondition(),
		FilterExpression:          e.Filter(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(want)),
		ConsistentRead:            aws.Bool(true),
	}
	if q.After != "" {
		in.ExclusiveStartKey = key{midPK(q.MID), q.After}.av()
	}
	events := make([]audit.Event, 0, want)
	for {
		out, err := awserr.Call(ctx, st.Client.Query, in)
		if err != nil {
			return nil, false, fmt.Errorf("list audit events: %w", err)
		}
		var items []auditEvent
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, false, fmt.Errorf("list audit events: %w", err)
		}
		for _, it := range items {
			events = append(events, it.event())
		}
		if len(events) >= want || out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(events) > q.Limit {
		return events[:q.Limit], true, nil
	}
	return events, false, nil
}
