package apitest

import "strings"

// Exact answers shared by several routes.
const (
	// Want401 is the body of every refused bearer token.
	Want401 = `{"errors":["Authentication failed. Invalid bearer token."]}` + "\n"
	// WantScope403 is the generic forbidden answer.
	WantScope403 = `{"errors":["Insufficient scope for this operation."]}` + "\n"
	// Want404 is the answer for a missing or foreign key.
	Want404 = `{"errors":["API key not found."]}` + "\n"
	// WantInvalidPair is the token endpoint's answer for any refused pair.
	WantInvalidPair = `{"success":false,"errors":["Invalid AppKey or AppSecret."]}` + "\n"
	// WantInvalidRefresh is the upstream shape's answer for any refused
	// refresh token.
	WantInvalidRefresh = `{"success":false,"errors":["Invalid refresh token."]}` + "\n"
)

// WantInvalidGrant is the OAuth answer for any refused refresh token.
var WantInvalidGrant = OAuthError("invalid_grant", "The refresh token is invalid, expired or revoked.")

// OAuthError is the exact RFC 6749 §5.2 body of this API.
func OAuthError(code, desc string) string {
	return `{"error":"` + code + `","error_description":"` + desc + `","errors":["` + desc + `"]}` + "\n"
}

// FailedCreation is upstream's "failed creation" body with errs.
func FailedCreation(errs ...string) string {
	q := make([]string, len(errs))
	for i, e := range errs {
		q[i] = `"` + e + `"`
	}
	return `{"id":null,"type":null,"value":null,"mid":null,"name":null,"scopes":null,"created_at":null,"errors":[` + strings.Join(q, ",") + `]}` + "\n"
}
