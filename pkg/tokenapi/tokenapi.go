// Package tokenapi serves the /v1/oauth2 routes: the exchange of a key pair
// for tokens.
package tokenapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/flexfactor/credplane/pkg/auth"
	"github.com/flexfactor/credplane/pkg/httpapi"
)

// MsgInvalidCredentials is the one message for every refused key pair.
const MsgInvalidCredentials = "Invalid AppKey or AppSecret."

// Handler serves the token endpoint.
type Handler struct {
	Auth *auth.Service
	Log  *slog.Logger
}

// Routes lists the method and path patterns this handler serves; the SAM
// template must route exactly these to the function.
var Routes = []string{
	"POST /v1/oauth2/token",
}

// Register adds the routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/oauth2/token", h.token)
	mux.HandleFunc("/v1/oauth2/token", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		httpapi.Errors(w, http.StatusMethodNotAllowed, httpapi.MsgMethod)
	})
}

// New returns the complete handler of the token function.
func New(h *Handler) http.Handler {
	mux := http.NewServeMux()
	h.Register(mux)
	mux.HandleFunc("/", httpapi.NotFound)
	return httpapi.Wrap(mux, h.Log)
}

// upstreamOK is the upstream 200 body; expires is epoch milliseconds.
type upstreamOK struct {
	AccessToken  string   `json:"accessToken"`
	RefreshToken string   `json:"refreshToken"`
	Expires      int64    `json:"expires"`
	ID           string   `json:"id"`
	Success      bool     `json:"success"`
	Errors       []string `json:"errors"`
}

// upstreamFail is the upstream failure body.
type upstreamFail struct {
	Success bool     `json:"success"`
	Errors  []string `json:"errors"`
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	body, err := httpapi.ReadBody(w, r)
	var be *httpapi.BodyError
	if errors.As(err, &be) {
		httpapi.JSON(w, be.Status, upstreamFail{Errors: []string{be.Message}})
		return
	}
	obj, err := httpapi.ParseObject(body)
	if errors.As(err, &be) {
		httpapi.JSON(w, be.Status, upstreamFail{Errors: []string{be.Message}})
		return
	}
	appKey, appSecret := stringMember(obj, "appkey"), stringMember(obj, "appsecret")
	t, err := h.Auth.Exchange(r.Context(), appKey, appSecret)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		h.Log.InfoContext(r.Context(), "token refused")
		httpapi.JSON(w, http.StatusBadRequest, upstreamFail{Errors: []string{MsgInvalidCredentials}})
		return
	}
	if err != nil {
		httpapi.Internal(w, r, h.Log, err)
		return
	}
	h.Log.InfoContext(r.Context(), "token issued", "client_id", t.ClientID)
	httpapi.JSON(w, http.StatusOK, upstreamOK{
		AccessToken:  t.AccessToken,
		RefreshToken: t.RefreshToken,
		Expires:      t.ExpiresAt.UnixMilli(),
		ID:           t.ClientID,
		Success:      true,
		Errors:       []string{},
	})
}

// stringMember returns the string member whose name matches lower
// case-insensitively, or "" when there is none or it is not a string.
func stringMember(obj map[string]json.RawMessage, lower string) string {
	for name, raw := range obj {
		if strings.ToLower(name) != lower {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return ""
}
