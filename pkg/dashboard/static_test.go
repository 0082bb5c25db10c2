package dashboard_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flexfactor/credplane/pkg/dashboard"
	"golang.org/x/net/html"
)

// The page, as committed, can only load this origin's files: every script
// is a file (no inline script, handler or style), every reference is
// relative and names a served asset, and every asset is used.
func TestPageLoadsOnlyItsOwnFiles(t *testing.T) {
	page, err := os.ReadFile("index.html")
	if err != nil {
		t.Fatal(err)
	}
	referenced := map[string]bool{}
	z := html.NewTokenizer(strings.NewReader(string(page)))
	inScript := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			switch tok.Data {
			case "style", "base", "iframe", "object", "embed", "frame":
				t.Errorf("<%s> in the page", tok.Data)
			case "script":
				inScript = true
				if attr(tok, "src") == "" || attr(tok, "type") != "module" {
					t.Errorf("a script that is not a module file: %s", tok)
				}
			}
			for _, a := range tok.Attr {
				switch {
				case strings.HasPrefix(a.Key, "on") || a.Key == "style":
					t.Errorf("<%s %s=…>: inline code or style", tok.Data, a.Key)
				case a.Key == "src" || a.Key == "href":
					name, ok := strings.CutPrefix(a.Val, "dashboard/")
					if !ok || !slices.Contains(dashboard.Assets(), name) {
						t.Errorf("<%s %s=%q>: not a served asset, relative to the page", tok.Data, a.Key, a.Val)
					}
					referenced[name] = true
				}
			}
		case html.TextToken:
			if inScript && strings.TrimSpace(tok.Data) != "" {
				t.Errorf("inline script: %q", tok.Data)
			}
		case html.EndTagToken:
			inScript = false
		}
	}
	imports := regexp.MustCompile(`(?m)^import .* from '\./([a-z0-9-]+\.js)';$`)
	for _, name := range dashboard.Assets() {
		if filepath.Ext(name) != ".js" {
			continue
		}
		src, err := os.ReadFile(filepath.Join("assets", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range imports.FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(dashboard.Assets(), m[1]) {
				t.Errorf("%s imports %s, which is not served", name, m[1])
			}
			referenced[m[1]] = true
		}
	}
	for _, name := range dashboard.Assets() {
		if !referenced[name] {
			t.Errorf("assets/%s is served but nothing loads it", name)
		}
	}
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// No file names another origin, and no script holds the means to turn a
// string into HTML or code, or to keep anything beyond the tab's memory.
// (The CSP's Trusted Types would make the first throw in the browser; this
// keeps them out of the source.)
func TestFilesHoldNoUnsafeConstruct(t *testing.T) {
	forbidden := map[string][]string{
		".js": {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment",
			"DOMParser", "srcdoc", "eval(", "Function(", "localStorage", "sessionStorage", "document.cookie",
			"indexedDB", "caches.", "history.pushState", "history.replaceState", "location.hash", "location.search"},
		".css":  {"@import", "url("},
		".html": {"javascript:", "data:"},
		".svg":  {"<script", "href"},
	}
	files := []string{"index.html"}
	for _, name := range dashboard.Assets() {
		files = append(files, filepath.Join("assets", name))
	}
	otherOrigin := regexp.MustCompile(`[a-z]+://|["'(]//`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(src)
		for _, s := range forbidden[filepath.Ext(f)] {
			if strings.Contains(text, s) {
				t.Errorf("%s holds %q", f, s)
			}
		}
		// An SVG file names its XML namespace, which is no request.
		text = strings.ReplaceAll(text, `xmlns="http://www.w3.org/2000/svg"`, "")
		if m := otherOrigin.FindString(text); m != "" {
			t.Errorf("%s names another origin: %q", f, m)
		}
	}
}
