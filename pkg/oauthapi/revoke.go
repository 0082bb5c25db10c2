package oauthapi

import (
	"net/http"
	"strings"

	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/httpapi"
)

// revoke serves RFC 7009: an authenticated client revokes one of its
// refresh tokens, and with it the token's family. The answer is 200 for an
// unknown, foreign or already revoked token too, so nothing can be probed.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	form, ok := h.readForm(w, r)
	if !ok {
		return
	}
	creds, err := clientCredentials(r, form)
	if err != nil {
		h.oauthError(w, r, http.StatusBadRequest, CodeInvalidRequest, DescTwoAuthMethods)
		return
	}
	client, ok := h.authenticate(w, r, creds)
	if !ok {
		return
	}
	tok := form.Get("token")
	switch {
	case tok == "":
		h.oauthError(w, r, http.StatusBadRequest, CodeInvalidRequest, DescMissingToken)
		return
	case !auth.IsRefreshToken(tok) && strings.Count(tok, ".") == 2:
		// An access token: they are not revocable one by one; they expire
		// within 10 minutes, or within a minute of their key's deletion.
		h.oauthError(w, r, http.StatusBadRequest, CodeUnsupportedTokenType, DescUnsupportedToken)
		return
	}
	if err := h.Auth.Revoke(r.Context(), client, tok); err != nil {
		httpapi.Internal(w, r, h.Log, err)
		return
	}
	h.Log.InfoContext(r.Context(), "revocation handled", "client_id", client.PublicKeyID)
	httpapi.JSON(w, http.StatusOK, httpapi.ErrorBody{Errors: []string{}})
}
