package app

// Logical ids of the Lambda functions in template.yaml.
const (
	TokenFunction          = "TokenFunction"
	APIKeysFunction        = "ApiKeysFunction"
	OnboardFunction        = "OnboardFunction"
	SecretScanningFunction = "SecretScanningFunction"
)

// AllFunctions names, in metrics, the one handler that serves every route
// (Deps.All: the dev server and end-to-end tests), which no deployed
// function is.
const AllFunctions = "All"

// Permissions lists, per function (by logical id), every IAM action its code
// calls. template.yaml grants each function exactly these and nothing else;
// infra/samtemplate's test holds the template to this map, and the invoke
// test in infra/lambdalocal records the AWS calls each real binary makes and
// fails on any call this map does not grant. Change both together.
//
// DynamoDB has no IAM action for TransactWriteItems: each item of a
// transaction is authorized as its underlying operation, so a Put needs
// dynamodb:PutItem, an Update dynamodb:UpdateItem, a Delete
// dynamodb:DeleteItem and a ConditionCheck dynamodb:ConditionCheckItem
// (DynamoDB Developer Guide, "Using IAM with DynamoDB transactions").
var Permissions = map[string][]string{
	TokenFunction: {
		"dynamodb:BatchGetItem",       // both digest lookups of an exchange; both key records on a refresh
		"dynamodb:GetItem",            // the refresh-token record (refresh, revoke)
		"dynamodb:PutItem",            // refresh tokens and the revoked-family marker (transaction Puts)
		"dynamodb:UpdateItem",         // last_used on both keys, rotated_at, revoked_at, the secret key's token count (transaction Updates)
		"dynamodb:ConditionCheckItem", // the family is not revoked, checked inside a refresh
		// refresh.revoked and refresh.reuse_detected audit events (transaction Puts, audit table).
		"kms:Sign",         // access tokens
		"kms:GetPublicKey", // GET /v1/oauth2/jwks
	},
	APIKeysFunction: {
		"dynamodb:Query",        // a key's record and value (table); a merchant's keys (index gsi1); the audit trail
		"dynamodb:BatchGetItem", // key records behind a bearer token, once per 30 s per container
		"dynamodb:GetItem",      // an idempotency claim, when a refused claim did not return it
		"dynamodb:PutItem",      // key record, digest lookup, sealed value, idempotency claim, audit event
		"dynamodb:UpdateItem",   // revoke, roll, last-four and digest, idempotency completion
		"dynamodb:DeleteItem",   // digest lookups of deleted or rolled values, released claims
		"kms:GenerateDataKey",   // one data key per new value (envelope encryption)
		"kms:Decrypt",           // replay of an idempotent create; value of a public or tokenization key
		"kms:GetPublicKey",      // bearer token verification, once per cold start
		// The HMAC key of list cursors, once per cold start (CURSOR_SECRET_ARN).
		"secretsmanager:GetSecretValue",
	},
	SecretScanningFunction: {
		"dynamodb:GetItem",    // the lookup of a reported value's digest
		"dynamodb:Query",      // the record of the key it names
		"dynamodb:PutItem",    // the key.leaked audit event (a transaction Put, audit table)
		"dynamodb:UpdateItem", // revoke the key, or end its previous value's grace
		"dynamodb:DeleteItem", // the lookups of the values it stops
	},
	OnboardFunction: {
		"dynamodb:GetItem",    // the merchant's onboarding claim (strongly consistent)
		"dynamodb:Query",      // index gsi1: refuse a merchant that already manages its keys; table: the claim's secret key
		"dynamodb:PutItem",    // the first key pair, the moved claim and the merchant.onboarded event (transaction Puts)
		"kms:GenerateDataKey", // one data key per new value
	},
}
