package handlers

// Logical ids of the Lambda functions in template.yaml.
const (
	TokenFunction   = "TokenFunction"
	APIKeysFunction = "ApiKeysFunction"
	OnboardFunction = "OnboardFunction"
)

// Permissions lists, per function (by logical id), every IAM action its code
// calls. template.yaml grants each function exactly these and nothing else;
// infra/samtemplate's test holds the template to this map, and the invoke
// test in infra/events records the AWS calls each real binary makes and
// fails on any call this map does not grant. Change both together.
//
// DynamoDB has no IAM action for TransactWriteItems: each item of a
// transaction is authorized as its underlying operation, so a Put needs
// dynamodb:PutItem, an Update dynamodb:UpdateItem, a Delete
// dynamodb:DeleteItem and a ConditionCheck dynamodb:ConditionCheckItem
// (DynamoDB Developer Guide, "Using IAM with DynamoDB transactions").
var Permissions = map[string][]string{
	TokenFunction: {
		"dynamodb:BatchGetItem", // both digest lookups of an exchange, in one read
		"dynamodb:PutItem",      // the refresh token (a transaction Put)
		"dynamodb:UpdateItem",   // last_used on both keys (transaction Updates)
		"kms:Sign",              // access tokens
		"kms:GetPublicKey",      // GET /v1/oauth2/jwks
	},
	APIKeysFunction: {
		"dynamodb:PutItem",    // key record, digest lookup and sealed value (transaction Puts)
		"kms:GenerateDataKey", // one data key per new value (envelope encryption)
		"kms:GetPublicKey",    // bearer token verification, once per cold start
	},
	OnboardFunction: {
		"dynamodb:PutItem",    // the first key pair (transaction Puts)
		"kms:GenerateDataKey", // one data key per new value
	},
}
