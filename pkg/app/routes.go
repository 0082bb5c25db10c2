package app

import (
	"slices"

	"github.com/flexfactor/credplane/pkg/apidoc"
	"github.com/flexfactor/credplane/pkg/apikeyapi"
	"github.com/flexfactor/credplane/pkg/dashboard"
	"github.com/flexfactor/credplane/pkg/oauthapi"
	"github.com/flexfactor/credplane/pkg/secretscanapi"
)

// Routes lists, per function (by logical id), the method and path patterns
// its handler serves. template.yaml must route exactly these to it (the
// infra/samtemplate test holds it to this map).
var Routes = map[string][]string{
	TokenFunction:          slices.Concat(oauthapi.Routes, apidoc.Routes, dashboard.Routes),
	APIKeysFunction:        apikeyapi.Routes,
	OnboardFunction:        nil, // invoked directly, no HTTP route
	SecretScanningFunction: secretscanapi.Routes,
}
