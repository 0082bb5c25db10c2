package samtemplate

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Statement is one statement of an IAM policy or a key policy.
type Statement struct {
	Sid     string
	Effect  string
	Actions []string
	// Resources and Principal (Principal.AWS) are rendered by Describe.
	Resources []string
	Principal string
	Condition *yaml.Node
	Line      int
}

// PolicyStatements reads a policy's Statement list.
func PolicyStatements(list *yaml.Node) []Statement {
	if list == nil {
		return nil
	}
	var out []Statement
	for _, s := range list.Content {
		st := Statement{
			Sid:       scalar(Get(s, "Sid")),
			Effect:    scalar(Get(s, "Effect")),
			Actions:   Strings(Get(s, "Action")),
			Condition: Get(s, "Condition"),
			Line:      s.Line,
		}
		if p := Get(s, "Principal", "AWS"); p != nil {
			st.Principal = Describe(p)
		}
		res := Get(s, "Resource")
		if res != nil && res.Kind == yaml.SequenceNode {
			for _, r := range res.Content {
				st.Resources = append(st.Resources, Describe(r))
			}
		} else {
			st.Resources = []string{Describe(res)}
		}
		out = append(out, st)
	}
	return out
}

// Statements returns the statements of a function's inline policies
// (Policies entries of the form {Statement: [...]}) with the parameters'
// defaults; an entry of another form (a managed policy, a SAM policy
// template) is an error.
func (t *Template) Statements(fn string) ([]Statement, error) {
	return t.StatementsWith(fn, Params{})
}

// StatementsWith is Statements with the given parameters: a statement or a
// value that depends on a condition is resolved with them.
func (t *Template) StatementsWith(fn string, p Params) ([]Statement, error) {
	policies, err := t.ResolveAll(Get(t.Resource(fn), "Properties", "Policies"), p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	if policies == nil || policies.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: Policies must be a list", fn)
	}
	var out []Statement
	for _, p := range policies.Content {
		if !slices.Equal(Keys(p), []string{"Statement"}) {
			return nil, fmt.Errorf("%s: the policy at line %d is not inline statements", fn, p.Line)
		}
		out = append(out, PolicyStatements(p.Content[1])...)
	}
	return out, nil
}

// ItemAccess is one DynamoDB item operation as IAM authorizes it (an item of
// a transaction is authorized as its own operation).
type ItemAccess struct {
	Action string // such as dynamodb:UpdateItem
	// Resource is the table or index as the template names it (see
	// Describe): "Fn::GetAtt Table.Arn" or "Fn::Sub ${Table.Arn}/index/gsi1".
	Resource string
	// LeadingKeys are the partition key values the request reaches (the
	// dynamodb:LeadingKeys condition key); nil when not known.
	LeadingKeys []string
	// Attributes are the top-level attribute names the request names: its
	// key or item and every expression (the dynamodb:Attributes condition
	// key); nil when not known.
	Attributes []string
}

// The condition keys Allows evaluates.
const (
	CondLeadingKeys = "dynamodb:LeadingKeys"
	CondAttributes  = "dynamodb:Attributes"
)

// Allows reports whether an Allow statement grants a: its action, its
// resource, and every condition on the DynamoDB keys above, with the
// ForAllValues:StringLike and ForAllValues:StringEquals operators. A
// condition value that a is not known to have is not met; any other
// condition operator or key is an error (it would be ignored otherwise).
func (st Statement) Allows(a ItemAccess) (bool, error) {
	if st.Effect != "Allow" || !slices.Contains(st.Actions, a.Action) || !slices.Contains(st.Resources, a.Resource) {
		return false, nil
	}
	ok := true
	for _, op := range Keys(st.Condition) {
		match, found := map[string]func(pattern, v string) bool{
			"ForAllValues:StringLike":   Like,
			"ForAllValues:StringEquals": func(p, v string) bool { return p == v },
		}[op]
		if !found {
			return false, fmt.Errorf("statement %s: condition operator %s is not evaluated here", st.Sid, op)
		}
		keys := Get(st.Condition, op)
		for _, key := range Keys(keys) {
			var values []string
			switch key {
			case CondLeadingKeys:
				values = a.LeadingKeys
			case CondAttributes:
				values = a.Attributes
			default:
				return false, fmt.Errorf("statement %s: condition key %s is not evaluated here", st.Sid, key)
			}
			allowed := Strings(Get(keys, key))
			// ForAllValues: every value of the request matches one of the
			// policy's. (An empty set would match vacuously; an unknown one
			// is refused.)
			if values == nil {
				ok = false
			}
			for _, v := range values {
				if !slices.ContainsFunc(allowed, func(p string) bool { return match(p, v) }) {
					ok = false
				}
			}
		}
	}
	return ok, nil
}

// Like reports whether s matches an IAM StringLike pattern: * matches any
// run of characters (slashes included), ? any one character.
func Like(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if Like(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// LeadingKeyPatterns returns the dynamodb:LeadingKeys patterns a statement
// is conditioned on (ForAllValues:StringLike), or nil.
func (st Statement) LeadingKeyPatterns() []string {
	return Strings(Get(st.Condition, "ForAllValues:StringLike", CondLeadingKeys))
}

// AttributeNames returns the dynamodb:Attributes a statement is
// conditioned on (ForAllValues:StringEquals), or nil.
func (st Statement) AttributeNames() []string {
	return Strings(Get(st.Condition, "ForAllValues:StringEquals", CondAttributes))
}

// expressionKeywords are the words of DynamoDB expressions that are not
// attribute names.
var expressionKeywords = []string{"SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN"}

// ExpressionAttributes returns the top-level attribute names an expression
// (condition, update, projection or key condition) names, with #aliases
// resolved through names.
func ExpressionAttributes(expr string, names map[string]string) []string {
	var out []string
	isWord := func(r byte) bool {
		return r == '_' || r == '#' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	for i := 0; i < len(expr); {
		if !isWord(expr[i]) {
			i++
			continue
		}
		j := i
		for j < len(expr) && isWord(expr[j]) {
			j++
		}
		word := expr[i:j]
		prev := byte(0)
		if i > 0 {
			prev = expr[i-1]
		}
		next := strings.TrimLeft(expr[j:], " ")
		i = j
		switch {
		case prev == ':' || prev == '.' || word[0] >= '0' && word[0] <= '9':
			// a value placeholder, a nested member, an index or a number
		case strings.HasPrefix(next, "("):
			// a function: attribute_exists, if_not_exists, size, ...
		case slices.ContainsFunc(expressionKeywords, func(k string) bool { return strings.EqualFold(k, word) }):
		case strings.HasPrefix(word, "#"):
			if n, ok := names[word]; ok && !slices.Contains(out, n) {
				out = append(out, n)
			}
		case !slices.Contains(out, word):
			out = append(out, word)
		}
	}
	return out
}
