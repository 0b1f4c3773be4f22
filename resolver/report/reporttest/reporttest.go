// Package reporttest checks JSON documents against the published schema
// of package report. Only tests import it, so the validator is not linked
// into the addrwalk binary.
package reporttest

import (
	"bytes"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/addrwalk/addrwalk/resolver/report"
)

// Definitions of the schema a document can be checked against.
const (
	Resolution = "#/$defs/resolution"
	Infra      = "#/$defs/infra"
)

var compile = sync.OnceValues(func() (*jsonschema.Compiler, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(report.Schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(report.SchemaID, doc); err != nil {
		return nil, err
	}
	return c, nil
})

// Validate fails t unless doc is valid against the schema's definition def
// (Resolution or Infra).
func Validate(t testing.TB, def string, doc []byte) {
	t.Helper()
	if err := Check(def, doc); err != nil {
		t.Errorf("JSON does not follow %s%s: %v\n%s", report.SchemaID, def, err, doc)
	}
}

// Resource is another schema document that refers to this package's
// schema (such as the path document's, which holds resolutions).
type Resource struct {
	ID     string // its $id
	Schema []byte
}

// ValidateWith fails t unless doc is valid against res (whose references
// to the resolution schema resolve to report.Schema).
func ValidateWith(t testing.TB, res Resource, doc []byte) {
	t.Helper()
	if err := CheckWith(res, doc); err != nil {
		t.Errorf("JSON does not follow %s: %v\n%s", res.ID, err, doc)
	}
}

// CheckWith validates doc against res and returns the first violation.
func CheckWith(res Resource, doc []byte) error {
	base, err := jsonschema.UnmarshalJSON(bytes.NewReader(report.Schema))
	if err != nil {
		return err
	}
	ext, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.Schema))
	if err != nil {
		return err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(report.SchemaID, base); err != nil {
		return err
	}
	if err := c.AddResource(res.ID, ext); err != nil {
		return err
	}
	sch, err := c.Compile(res.ID)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// Check validates doc against def and returns the first violation.
func Check(def string, doc []byte) error {
	c, err := compile()
	if err != nil {
		return err
	}
	sch, err := c.Compile(report.SchemaID + def)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	// Every property has a type, so a null anywhere is a violation.
	return sch.Validate(v)
}
