// Package samtemplate reads template.yaml, the SAM template, as YAML nodes,
// so that its CloudFormation tags (!Ref, !GetAtt, !If, ...) survive: tests
// and the local invoke tooling read the template the way CloudFormation
// will, without a SAM CLI. (goformation cannot: it rejects SAM properties it
// does not know, such as HttpApi AccessLogSettings.)
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flexfactor/credplane/infra/repo"
	"gopkg.in/yaml.v3"
)

// fileName is the template's name at the repository root.
const fileName = "template.yaml"

// Node is a node of the template's YAML tree.
type Node = yaml.Node

// Template is a parsed SAM template.
type Template struct {
	// Root is the template's top-level mapping.
	Root *yaml.Node
}

// load parses the template at path.
func load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML mapping", path)
	}
	return &Template{Root: doc.Content[0]}, nil
}

// LoadRepo parses the template at the repository root.
func LoadRepo() (*Template, error) {
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	return load(filepath.Join(root, fileName))
}

// Get follows mapping keys from n; nil when any is absent or n is not a
// mapping.
func Get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// Keys returns a mapping's keys in document order.
func Keys(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]string, 0, len(n.Content)/2)
	for i := 0; i < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// Strings returns the values of a sequence of scalars, or of a single
// scalar (CloudFormation accepts either in many places).
func Strings(n *yaml.Node) []string {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.ScalarNode:
		return []string{n.Value}
	case n.Kind != yaml.SequenceNode:
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

// intrinsic reports whether n is a CloudFormation intrinsic function, in the
// short form (!Ref x, !If [...]) or the long one (Ref: x, Fn::If: [...]),
// and returns its full name ("Ref", "Condition" or "Fn::...") and argument.
func intrinsic(n *yaml.Node) (name string, arg *yaml.Node, ok bool) {
	if n == nil {
		return "", nil, false
	}
	if tag, short := strings.CutPrefix(n.Tag, "!"); short && !strings.HasPrefix(tag, "!") {
		if tag != "Ref" && tag != "Condition" {
			tag = "Fn::" + tag
		}
		return tag, n, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, n.Content[1], true
		}
	}
	return "", nil, false
}

// Describe renders a scalar or an intrinsic on a scalar compactly, for
// comparisons and messages: "x", "Ref Table", "Fn::GetAtt Table.Arn",
// "Fn::Sub alias/${Stage}". Other nodes render as their YAML.
func Describe(n *yaml.Node) string {
	if n == nil {
		return "<absent>"
	}
	if name, arg, ok := intrinsic(n); ok {
		if name == "Fn::GetAtt" && arg.Kind == yaml.SequenceNode {
			return name + " " + strings.Join(Strings(arg), ".")
		}
		if arg.Kind == yaml.ScalarNode {
			return name + " " + arg.Value
		}
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	b, _ := yaml.Marshal(n)
	return strings.TrimSpace(string(b))
}

// Resource returns the resource named id, or nil.
func (t *Template) Resource(id string) *yaml.Node { return Get(t.Root, "Resources", id) }

// ResourceType returns the Type of resource id.
func (t *Template) ResourceType(id string) string { return scalar(Get(t.Resource(id), "Type")) }

// resourcesOfType lists the ids of the resources of a type, in document order.
func (t *Template) resourcesOfType(typ string) []string {
	var out []string
	for _, id := range Keys(Get(t.Root, "Resources")) {
		if ty := Get(t.Resource(id), "Type"); ty != nil && ty.Value == typ {
			out = append(out, id)
		}
	}
	return out
}

// functionType is the SAM resource type of a Lambda function.
const functionType = "AWS::Serverless::Function"

// Functions lists the logical ids of the Lambda functions.
func (t *Template) Functions() []string { return t.resourcesOfType(functionType) }

// Route is an HttpApi event of a function.
type Route struct {
	Function string // logical id of the function
	Method   string // upper case, as in the template
	Path     string
	// Properties is the event's Properties mapping.
	Properties *yaml.Node
}

// Key is the route as "METHOD /path", the form API Gateway's routeKey and
// Go's http.ServeMux patterns share.
func (r Route) Key() string {
	if r.Method == "" && r.Path == "" {
		return DefaultRoute
	}
	return r.Method + " " + r.Path
}

// DefaultRoute is the key of an HttpApi event with neither Path nor Method:
// API Gateway's catch-all for requests no other route matches.
const DefaultRoute = "$default"

// Routes lists every HttpApi event of every function.
func (t *Template) Routes() []Route {
	var out []Route
	for _, fn := range t.Functions() {
		events := Get(t.Resource(fn), "Properties", "Events")
		for _, name := range Keys(events) {
			ev := Get(events, name)
			if scalar(Get(ev, "Type")) != "HttpApi" {
				continue
			}
			props := Get(ev, "Properties")
			out = append(out, Route{
				Function:   fn,
				Method:     strings.ToUpper(scalar(Get(props, "Method"))),
				Path:       scalar(Get(props, "Path")),
				Properties: props,
			})
		}
	}
	return out
}

// RouteFunction returns the function that serves a route key, or "".
func (t *Template) RouteFunction(key string) string {
	for _, r := range t.Routes() {
		if r.Key() == key {
			return r.Function
		}
	}
	return ""
}

// Environment returns a function's environment variables: the Globals'
// merged with its own (its own win, as in SAM).
func (t *Template) Environment(fn string) map[string]*yaml.Node {
	env := map[string]*yaml.Node{}
	for _, vars := range []*yaml.Node{
		Get(t.Root, "Globals", "Function", "Environment", "Variables"),
		Get(t.Resource(fn), "Properties", "Environment", "Variables"),
	} {
		for _, k := range Keys(vars) {
			env[k] = Get(vars, k)
		}
	}
	return env
}

// Params are parameter values by name; a parameter not in it takes its
// Default from the template.
type Params map[string]string

// Condition evaluates the named condition with the given parameters.
func (t *Template) Condition(name string, p Params) (bool, error) {
	c := Get(t.Root, "Conditions", name)
	if c == nil {
		return false, fmt.Errorf("no condition %s", name)
	}
	return t.evalBool(c, p)
}

// Resolve returns what n becomes once its Fn::If choices are made with the
// given parameters (only n itself and the branch it selects are resolved;
// nested values are returned as written). A branch of Ref AWS::NoValue
// resolves to nil.
func (t *Template) Resolve(n *yaml.Node, p Params) (*yaml.Node, error) {
	for {
		name, arg, ok := intrinsic(n)
		switch {
		case ok && name == "Ref" && arg.Value == "AWS::NoValue":
			return nil, nil
		case !ok || name != "Fn::If":
			return n, nil
		case arg.Kind != yaml.SequenceNode || len(arg.Content) != 3:
			return nil, errors.New("Fn::If needs [condition, then, else]")
		}
		yes, err := t.Condition(arg.Content[0].Value, p)
		if err != nil {
			return nil, err
		}
		if yes {
			n = arg.Content[1]
		} else {
			n = arg.Content[2]
		}
	}
}

// ResolveAll returns a copy of n with every Fn::If in it resolved with the
// given parameters, and every Ref AWS::NoValue dropped with the entry that
// holds it (nil when n itself resolves to none).
func (t *Template) ResolveAll(n *yaml.Node, p Params) (*yaml.Node, error) {
	n, err := t.Resolve(n, p)
	if n == nil || err != nil {
		return nil, err
	}
	out := *n
	out.Content = nil
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			r, err := t.ResolveAll(c, p)
			if err != nil {
				return nil, err
			}
			if r != nil {
				out.Content = append(out.Content, r)
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			r, err := t.ResolveAll(n.Content[i+1], p)
			if err != nil {
				return nil, err
			}
			if r != nil {
				out.Content = append(out.Content, n.Content[i], r)
			}
		}
	default:
		out.Content = n.Content
	}
	return &out, nil
}

func (t *Template) evalBool(n *yaml.Node, p Params) (bool, error) {
	name, arg, ok := intrinsic(n)
	if !ok {
		return false, fmt.Errorf("line %d: not a condition function", n.Line)
	}
	switch name {
	case "Condition":
		return t.Condition(arg.Value, p)
	case "Fn::Equals":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return false, fmt.Errorf("line %d: Fn::Equals needs two values", n.Line)
		}
		a, err := t.evalString(arg.Content[0], p)
		if err != nil {
			return false, err
		}
		b, err := t.evalString(arg.Content[1], p)
		return a == b, err
	case "Fn::Not", "Fn::And", "Fn::Or":
		vals := make([]bool, 0, len(arg.Content))
		for _, c := range arg.Content {
			v, err := t.evalBool(c, p)
			if err != nil {
				return false, err
			}
			vals = append(vals, v)
		}
		switch name {
		case "Fn::Not":
			if len(vals) != 1 {
				return false, fmt.Errorf("line %d: Fn::Not needs one condition", n.Line)
			}
			return !vals[0], nil
		case "Fn::And":
			return !slices.Contains(vals, false), nil
		default:
			return slices.Contains(vals, true), nil
		}
	}
	return false, fmt.Errorf("line %d: %s is not supported in conditions here", n.Line, name)
}

func (t *Template) evalString(n *yaml.Node, p Params) (string, error) {
	name, arg, ok := intrinsic(n)
	if !ok {
		return n.Value, nil
	}
	if name == "Fn::Join" && arg.Kind == yaml.SequenceNode && len(arg.Content) == 2 {
		// Joining a list parameter (a CommaDelimitedList's value is its
		// items joined by commas): how a condition asks whether it is empty.
		list, err := t.evalString(arg.Content[1], p)
		return strings.ReplaceAll(list, ",", arg.Content[0].Value), err
	}
	if name != "Ref" {
		return "", fmt.Errorf("line %d: %s is not supported in conditions here", n.Line, name)
	}
	if v, set := p[arg.Value]; set {
		return v, nil
	}
	param := Get(t.Root, "Parameters", arg.Value)
	if param == nil {
		return "", fmt.Errorf("line %d: Ref %s: no such parameter", n.Line, arg.Value)
	}
	return scalar(Get(param, "Default")), nil
}

func scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}
