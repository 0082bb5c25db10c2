package apikeyapi_test

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/flexfactor/credplane/pkg/apitest"
)

// listAll follows next_cursor from path until the last page and returns
// the ids in the order listed and the size of every page.
func listAll(t *testing.T, tok, path string) (ids []string, pages []int) {
	t.Helper()
	next := path
	for {
		r := apitest.Do(t, apitest.App(), "GET", next, apitest.Bearer(tok), "")
		if r.Status != 200 || len(apitest.ErrorsOf(r)) != 0 {
			t.Fatalf("GET %s: %d %s", next, r.Status, r.Raw)
		}
		keys := r.Body["keys"].([]any)
		pages = append(pages, len(keys))
		for _, k := range keys {
			obj := k.(map[string]any)
			got := apitest.Members(obj)
			if obj["status"] == "revoked" { // and only then
				got = slices.DeleteFunc(got, func(m string) bool { return m == "revoked_at" || m == "revoked_reason" })
			}
			if !slices.Equal(got, metadataMembers) {
				t.Fatalf("listed key members %v", apitest.Members(obj))
			}
			ids = append(ids, obj["id"].(string))
		}
		cur, ok := r.Body["next_cursor"]
		if !ok {
			t.Fatalf("no next_cursor member: %s", r.Raw)
		}
		if cur == nil {
			return ids, pages
		}
		sep := "&"
		if !slices.Contains([]byte(path), '?') {
			sep = "?"
		}
		next = path + sep + "cursor=" + url.QueryEscape(cur.(string))
		if len(pages) > 200 {
			t.Fatal("the listing does not end")
		}
	}
}

func TestLifecycleListPaginates120KeysWithoutDuplicatesOrGaps(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	all := []string{m.PublicKeyID, m.SecretKeyID}
	var deleted []string
	for i := range 120 {
		r := apitest.MustCreateKey(t, apitest.App(), tok, fmt.Sprintf(`{"mid":"%s","name":"key %d","type":"public"}`, m.MID, i))
		all = append(all, apitest.Str(r, "id"))
		if i%10 == 3 {
			deleted = append(deleted, apitest.Str(r, "id"))
		}
	}
	for _, id := range deleted {
		if r := apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+id, apitest.Bearer(tok), ""); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
	}
	// Newest first: ULIDs sort by creation time.
	slices.Sort(all)
	slices.Reverse(all)
	active := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return slices.Contains(deleted, id) })

	tests := []struct {
		name, path string
		want       []string
		pages      []int
	}{
		{"default limit, ?mid=", "/v1/api-keys?mid=" + m.MID, active, []int{50, 50, 10}},
		{"limit 7, upstream path", "/v1/api-keys/" + m.MID + "?limit=7", active, []int{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 5}},
		{"limit 100, deleted included", "/v1/api-keys?status=all&limit=100&mid=" + m.MID, all, []int{100, 22}},
		{"mid omitted: the caller's", "/v1/api-keys?limit=100", active, []int{100, 10}},
		{"limit dividing the count: no empty last page", "/v1/api-keys?limit=55", active, []int{55, 55}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, pages := listAll(t, tok, tt.path)
			if !slices.Equal(ids, tt.want) {
				t.Fatalf("listed %d ids, want %d in order (duplicates or gaps)", len(ids), len(tt.want))
			}
			if !slices.Equal(pages, tt.pages) {
				t.Fatalf("page sizes %v, want %v", pages, tt.pages)
			}
		})
	}
}

func TestLifecycleListShowsStatuses(t *testing.T) {
	m := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	gone := apitest.MustCreateKey(t, apitest.App(), tok, `{"mid":"`+m.MID+`","name":"gone","type":"public"}`)
	apitest.Do(t, apitest.App(), "DELETE", "/v1/api-keys/"+apitest.Str(gone, "id"), apitest.Bearer(tok), "")
	r := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys?status=all", apitest.Bearer(tok), "")
	keys := r.Body["keys"].([]any)
	if r.Status != 200 || len(keys) != 3 || r.Body["next_cursor"] != nil {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	first := keys[0].(map[string]any)
	if first["id"] != apitest.Str(gone, "id") || first["status"] != "revoked" || first["revoked_at"] == nil || first["revoked_reason"] != "deleted" || first["value"] != nil {
		t.Fatalf("deleted key listed as %v", first)
	}
	for _, k := range keys[1:] {
		if k.(map[string]any)["status"] != "active" {
			t.Fatalf("onboarding key listed as %v", k)
		}
	}
}

func TestLifecycleList400(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	otherTok := apitest.TokenFor(t, other)
	first := apitest.Do(t, apitest.App(), "GET", "/v1/api-keys?limit=1", apitest.Bearer(tok), "")
	cursor := apitest.Str(first, "next_cursor")
	if cursor == "" {
		t.Fatalf("no cursor: %s", first.Raw)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(cursor)
	tamper := func(i int) string {
		b := slices.Clone(raw)
		b[i] ^= 1
		return url.QueryEscape(base64.RawURLEncoding.EncodeToString(b))
	}
	allCursor := apitest.Str(apitest.Do(t, apitest.App(), "GET", "/v1/api-keys?limit=1&status=all", apitest.Bearer(tok), ""), "next_cursor")
	otherCursor := apitest.Str(apitest.Do(t, apitest.App(), "GET", "/v1/api-keys?limit=1", apitest.Bearer(otherTok), ""), "next_cursor")
	tests := []struct {
		name, path string
		want       []string
	}{
		{"tampered cursor: last id", "/v1/api-keys?limit=1&cursor=" + tamper(len(raw)-20), []string{"Invalid cursor."}},
		{"tampered cursor: mid", "/v1/api-keys?limit=1&cursor=" + tamper(4), []string{"Invalid cursor."}},
		{"tampered cursor: flags", "/v1/api-keys?limit=1&cursor=" + tamper(1), []string{"Invalid cursor."}},
		{"tampered cursor: MAC", "/v1/api-keys?limit=1&cursor=" + tamper(len(raw)-1), []string{"Invalid cursor."}},
		{"truncated cursor", "/v1/api-keys?cursor=" + cursor[:len(cursor)-2], []string{"Invalid cursor."}},
		{"garbage cursor", "/v1/api-keys?cursor=hello", []string{"Invalid cursor."}},
		{"cursor of another filter", "/v1/api-keys?cursor=" + allCursor, []string{"Invalid cursor."}},
		{"another merchant's cursor", "/v1/api-keys?cursor=" + otherCursor, []string{"Invalid cursor."}},
		{"cursor twice", "/v1/api-keys?cursor=" + cursor + "&cursor=" + cursor, []string{"Invalid cursor."}},
		{"limit 0", "/v1/api-keys?limit=0", []string{"Invalid limit value."}},
		{"limit 101", "/v1/api-keys?limit=101", []string{"Invalid limit value."}},
		{"limit not a number", "/v1/api-keys?limit=ten", []string{"Invalid limit value."}},
		{"status other than all", "/v1/api-keys?status=revoked", []string{"Invalid status value."}},
		{"bad mid", "/v1/api-keys?mid=mid%20x", []string{"Invalid mid."}},
		{"bad mid in the path", "/v1/api-keys/mid!x", []string{"Invalid mid."}},
		{"everything wrong at once", "/v1/api-keys?limit=-1&status=x&sort=asc&mid=%3C", []string{"Unknown parameter: sort.", "Invalid mid.", "Invalid limit value.", "Invalid status value."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.Do(t, apitest.App(), "GET", tt.path, apitest.Bearer(tok), "")
			if r.Status != 400 || !slices.Equal(apitest.ErrorsOf(r), tt.want) {
				t.Fatalf("%d %s, want %q", r.Status, r.Raw, tt.want)
			}
		})
	}
}

func TestLifecycleList403OtherMerchant(t *testing.T) {
	m := apitest.NewMerchant(t)
	other := apitest.NewMerchant(t)
	tok := apitest.TokenFor(t, m)
	for _, path := range []string{"/v1/api-keys?mid=" + other.MID, "/v1/api-keys/" + other.MID} {
		r := apitest.Do(t, apitest.App(), "GET", path, apitest.Bearer(tok), "")
		if r.Status != 403 || r.Raw != `{"errors":["The mid does not match the authenticated merchant."]}`+"\n" {
			t.Fatalf("%s: %d %s", path, r.Status, r.Raw)
		}
	}
}
