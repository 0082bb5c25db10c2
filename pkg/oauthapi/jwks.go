package oauthapi

import (
	"net/http"

	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/token"
)

// JWKSMaxAge is how long clients may cache the key set, in seconds. A new
// signing key is published (KMS_VERIFY_KEY_IDS) at least this long before
// it signs, so caches never miss a kid.
const JWKSMaxAge = "300"

// jwksBody is a JWK Set (RFC 7517 §5) with the errors array every response
// of this API carries (extra members are allowed by §5).
type jwksBody struct {
	Keys   []token.JWK `json:"keys"`
	Errors []string    `json:"errors"`
}

// jwks serves the public keys that verify access tokens; kid is the KMS key
// id, as in every token's header.
func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	ks, err := h.KeySet(r.Context())
	if err != nil {
		httpapi.Internal(w, r, h.Log, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age="+JWKSMaxAge)
	httpapi.JSON(w, http.StatusOK, jwksBody{Keys: ks.JWKs(), Errors: []string{}})
}
