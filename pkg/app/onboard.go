package app

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/httpapi"
	"github.com/flexfactor/credplane/pkg/metrics"
)

// OnboardEvent is the direct-invoke payload of the onboard function.
type OnboardEvent struct {
	MID  string `json:"mid"`
	Name string `json:"name"`
}

// OnboardResult is the onboard function's answer: the merchant's first key
// pair (shown once) or the reasons it was refused.
type OnboardResult struct {
	Success     bool     `json:"success"`
	MID         string   `json:"mid,omitempty"`
	AppKey      string   `json:"appKey,omitempty"`
	AppSecret   string   `json:"appSecret,omitempty"`
	PublicKeyID string   `json:"publicKeyId,omitempty"`
	SecretKeyID string   `json:"secretKeyId,omitempty"`
	Scopes      []string `json:"scopes,omitempty"`
	Errors      []string `json:"errors"`
}

// Onboard returns the onboard function's handler. Bad input is answered
// with errors in the result; only a failure of a dependency is an error.
// Each invocation runs within the request budget, as HTTP requests do, and
// one that onboards a merchant, or that a dependency fails, writes a metric
// line.
func (d Deps) Onboard() func(context.Context, OnboardEvent) (OnboardResult, error) {
	keys := d.Keys()
	m := d.metricsOf(OnboardFunction)
	return func(ctx context.Context, ev OnboardEvent) (OnboardResult, error) {
		var invocation string
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			invocation = lc.AwsRequestID
		}
		scope := m.Scope(invocation)
		defer scope.Flush()
		ctx, cancel := context.WithDeadline(ctx, httpapi.Deadline(ctx, time.Now(), d.Config.Budget()))
		defer cancel()
		pub, sec, err := keys.Onboard(ctx, ev.MID, ev.Name)
		var ve *apikey.ValidationError
		if errors.As(err, &ve) {
			return OnboardResult{Errors: ve.Problems}, nil
		}
		if err != nil {
			d.Log.ErrorContext(ctx, "onboard failed", "error", err.Error())
			scope.DependencyFailed(err)
			return OnboardResult{}, errors.New("internal error")
		}
		d.Log.InfoContext(ctx, "merchant onboarded", "mid", sec.Key.MID, "public_key_id", pub.Key.ID, "secret_key_id", sec.Key.ID)
		scope.Count(metrics.MerchantsOnboarded)
		return OnboardResult{
			Success:     true,
			MID:         sec.Key.MID,
			AppKey:      pub.Value,
			AppSecret:   sec.Value,
			PublicKeyID: pub.Key.ID,
			SecretKeyID: sec.Key.ID,
			Scopes:      sec.Key.Scopes,
			Errors:      []string{},
		}, nil
	}
}
