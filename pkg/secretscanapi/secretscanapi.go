// Package secretscanapi serves POST /v1/secret-scanning/github: GitHub's
// secret-scanning partner reports, authenticated by GitHub's signature over
// the raw body rather than by a bearer token.
package secretscanapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/metrics"
	"github.com/flexfactor/credplane/pkg/secretscan"
)

// Headers GitHub signs its reports with.
const (
	HeaderKeyID     = "Github-Public-Key-Identifier"
	HeaderSignature = "Github-Public-Key-Signature"
)

// Public messages of the route.
const (
	MsgInvalidSignature = "Invalid signature."
	MsgMalformedReport  = "The body must be a JSON array of at most 1000 {token, type, url, source} objects."
	MsgTooLarge         = "Request body too large."
)

// SignatureVerifier checks a report's signature.
type SignatureVerifier interface {
	Verify(ctx context.Context, keyID, sigB64 string, body []byte) error
}

// Handler serves the secret-scanning receiver.
type Handler struct {
	Verifier SignatureVerifier
	Leaks    secretscan.Leaks
	Log      *slog.Logger
}

// Routes lists the method and path patterns this handler serves; the SAM
// template must route exactly these to the function.
var Routes = []string{"POST /v1/secret-scanning/github"}

// Register adds the route to mux, and a 405 for other methods on it.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/secret-scanning/github", h.report)
	mux.HandleFunc("/v1/secret-scanning/github", httpapi.MethodNotAllowed("POST"))
}

// verdict is one entry of the answer: never the token itself.
type verdict struct {
	TokenHash string           `json:"token_hash"`
	TokenType string           `json:"token_type"`
	Label     secretscan.Label `json:"label"`
}

func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, secretscan.MaxReportBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		httpapi.Errors(w, http.StatusRequestEntityTooLarge, MsgTooLarge)
		return
	case err != nil:
		httpapi.Errors(w, http.StatusBadRequest, MsgMalformedReport)
		return
	}
	err = h.Verifier.Verify(r.Context(), r.Header.Get(HeaderKeyID), r.Header.Get(HeaderSignature), body)
	switch {
	case errors.Is(err, secretscan.ErrBadSignature):
		h.Log.WarnContext(r.Context(), "secret-scanning report refused", "event", "secret_scanning.refused", "reason", "signature")
		httpapi.Errors(w, http.StatusUnauthorized, MsgInvalidSignature)
		return
	case errors.Is(err, secretscan.ErrKeysUnavailable):
		h.Log.WarnContext(r.Context(), "secret-scanning keys unavailable", "error", err.Error())
		metrics.Record(r.Context(), metrics.DependencyFailures, metrics.DimService, "GitHub")
		w.Header().Set("Retry-After", "60")
		httpapi.Errors(w, http.StatusServiceUnavailable, httpapi.MsgUnavailable)
		return
	case err != nil:
		httpapi.Internal(w, r, h.Log, err)
		return
	}
	report, err := secretscan.ParseReport(body)
	if err != nil || !httpapi.UniqueMembers(body) {
		httpapi.Errors(w, http.StatusBadRequest, MsgMalformedReport)
		return
	}
	out := make([]verdict, 0, len(report))
	positives := 0
	for _, rep := range report {
		label, err := h.Leaks.ReportLeak(r.Context(), rep)
		if err != nil {
			httpapi.Internal(w, r, h.Log, err)
			return
		}
		if label == secretscan.TruePositive {
			positives++
		}
		sum := sha256.Sum256([]byte(rep.Token))
		out = append(out, verdict{TokenHash: hex.EncodeToString(sum[:]), TokenType: rep.Type, Label: label})
	}
	h.Log.InfoContext(r.Context(), "secret-scanning report", "event", "secret_scanning.report", "tokens", len(report), "true_positives", positives)
	metrics.Record(r.Context(), metrics.LeakReports)
	metrics.RecordValue(r.Context(), metrics.LeakedKeys, float64(positives))
	httpapi.JSON(w, http.StatusOK, out)
}
