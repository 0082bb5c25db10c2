package dynamostore

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Expressions are built by the SDK's expression package, which aliases
// every name and value.

// noCondition is an unset condition: the write is unconditional.
var noCondition expression.ConditionBuilder

// build builds an expression of the store's own names and values, which
// always build: a failure is a defect of this package, not of a request.
func build(b expression.Builder) expression.Expression {
	e, err := b.Build()
	if err != nil {
		panic("dynamostore: build expression: " + err.Error())
	}
	return e
}

// name and value are the operands of expressions.
func name(attr string) expression.NameBuilder { return expression.Name(attr) }
func value(v any) expression.ValueBuilder     { return expression.Value(v) }

// project is the projection of the named attributes.
func project(attrs ...string) expression.ProjectionBuilder {
	var p expression.ProjectionBuilder
	for _, a := range attrs {
		p = p.AddNames(name(a))
	}
	return p
}

// exists and absent: the item written is there, or not.
func exists() expression.ConditionBuilder { return name(AttrPK).AttributeExists() }
func absent() expression.ConditionBuilder { return name(AttrPK).AttributeNotExists() }

// notRevoked: the key record is not revoked.
func notRevoked() expression.ConditionBuilder { return name(attrRevoked).Equal(value(false)) }

// put is the transaction item that writes item (one of the item structs),
// on cond when set.
func (st *Store) put(item any, cond expression.ConditionBuilder) types.TransactWriteItem {
	p := &types.Put{TableName: &st.Table, Item: marshal(item)}
	if cond.IsSet() {
		e := build(expression.NewBuilder().WithCondition(cond))
		p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues = e.Condition(), e.Names(), e.Values()
	}
	return types.TransactWriteItem{Put: p}
}

// update is the transaction item that changes the item at k by upd, on
// cond when set.
func (st *Store) update(k key, upd expression.UpdateBuilder, cond expression.ConditionBuilder) types.TransactWriteItem {
	b := expression.NewBuilder().WithUpdate(upd)
	if cond.IsSet() {
		b = b.WithCondition(cond)
	}
	e := build(b)
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 &st.Table,
		Key:                       k.av(),
		UpdateExpression:          e.Update(),
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}}
}

// check is the transaction item that only checks cond on the item at k.
func (st *Store) check(k key, cond expression.ConditionBuilder) types.TransactWriteItem {
	e := build(expression.NewBuilder().WithCondition(cond))
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                 &st.Table,
		Key:                       k.av(),
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}}
}

// remove is the transaction item that deletes the item at k, if any.
func (st *Store) remove(k key) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: &st.Table, Key: k.av()}}
}
