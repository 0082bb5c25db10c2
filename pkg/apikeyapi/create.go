package apikeyapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/metrics"
)

// Public 403 messages of key creation.
const (
	MsgForeignMerchant = "The mid does not match the authenticated merchant."
	msgEscalation      = "Cannot grant scopes the caller does not hold: "
)

// createdBody is the 201 body (upstream shape plus id and expires_at).
type createdBody struct {
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	Value     string   `json:"value"`
	MID       string   `json:"mid"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	CreatedAt string   `json:"created_at"`
	ExpiresAt *string  `json:"expires_at,omitempty"`
	Errors    []string `json:"errors"`
}

// failedBody is upstream's "failed creation" shape: every field null.
type failedBody struct {
	ID        *string  `json:"id"`
	Type      *string  `json:"type"`
	Value     *string  `json:"value"`
	MID       *string  `json:"mid"`
	Name      *string  `json:"name"`
	Scopes    []string `json:"scopes"`
	CreatedAt *string  `json:"created_at"`
	Errors    []string `json:"errors"`
}

func failCreate(w http.ResponseWriter, status int, msgs ...string) {
	httpapi.JSON(w, status, failedBody{Errors: msgs})
}

// createMembers are the members a create body may hold.
var createMembers = []string{"mid", "name", "type", "scopes", "expires_at", memberIdempotencyKey}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	obj, err := httpapi.DecodeObject(w, r)
	var be *httpapi.BodyError
	if errors.As(err, &be) {
		failCreate(w, be.Status, be.Message)
		return
	}
	req, problems := createRequest(obj)
	idemKey, problem := idempotencyKey(r, obj)
	if problem != "" {
		problems = append(problems, problem)
	}
	in, err := req.Validate(h.now())
	var ve *apikey.ValidationError
	if errors.As(err, &ve) {
		problems = append(problems, ve.Problems...)
	}
	if len(problems) > 0 {
		failCreate(w, http.StatusBadRequest, problems...)
		return
	}

	c := caller(r)
	var created apikey.Created
	replayed := false
	if idemKey != "" {
		created, replayed, err = h.Keys.CreateIdempotent(r.Context(), c, in, idemKey)
	} else {
		created, err = h.Keys.Create(r.Context(), c, in)
	}
	if err != nil {
		p, ok := problemOf(err)
		switch {
		case !ok:
			httpapi.Internal(w, r, h.Log, err)
		case p.Status == http.StatusForbidden:
			httpapi.Errors(w, p.Status, p.Messages...)
		default:
			p.writeHeader(w)
			failCreate(w, p.Status, p.Messages...)
		}
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		h.Log.InfoContext(r.Context(), "api key creation replayed", "key_id", created.Key.ID, "mid", created.Key.MID)
	} else {
		h.Log.InfoContext(r.Context(), "api key created", "key_id", created.Key.ID, "mid", created.Key.MID, "type", created.Key.Type)
		metrics.Record(r.Context(), metrics.KeysCreated)
	}
	w.Header().Set("Location", "/v1/api-keys/"+created.Key.ID)
	w.Header().Set("Cache-Control", "no-store")
	httpapi.JSON(w, http.StatusCreated, createdBodyOf(created))
}

func createdBodyOf(c apikey.Created) createdBody {
	k := c.Key
	return createdBody{
		ID:        k.ID,
		Type:      string(k.Type),
		Value:     c.Value,
		MID:       k.MID,
		Name:      k.Name,
		Scopes:    k.Scopes,
		CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339),
		ExpiresAt: timestamp(k.ExpiresAt),
		Errors:    []string{},
	}
}

// createRequest turns the decoded members into a domain request; unknown
// members are reported (in name order) alongside the validation problems.
func createRequest(obj map[string]json.RawMessage) (apikey.CreateRequest, []string) {
	problems := unknownFields(obj, createMembers...)
	return apikey.CreateRequest{
		MID:       member(obj, "mid"),
		Name:      member(obj, "name"),
		Type:      member(obj, "type"),
		Scopes:    member(obj, "scopes"),
		ExpiresAt: member(obj, "expires_at"),
	}, problems
}

// unknownFields reports, in name order, the members obj holds beyond allowed.
func unknownFields(obj map[string]json.RawMessage, allowed ...string) []string {
	var unknown []string
	for name := range obj {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	problems := make([]string, 0, len(unknown))
	for _, name := range unknown {
		problems = append(problems, httpapi.UnknownField(name))
	}
	return problems
}

// undecodable stands for a member that is present but cannot be decoded.
// No validator accepts it, so it is reported as that member's Invalid
// problem instead of reading as absent and taking the default.
type undecodable struct{}

// member decodes one member to its dynamic JSON value; absent or null is
// nil. Numbers stay json.Number, so none overflows into a decoding error. A
// member that is not valid UTF-8 (which decoding would silently repair with
// U+FFFD) or that does not decode is undecodable{}.
func member(obj map[string]json.RawMessage, name string) any {
	raw, ok := obj[name]
	if !ok {
		return nil
	}
	if !utf8.Valid(raw) {
		return undecodable{}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return undecodable{}
	}
	return v
}
