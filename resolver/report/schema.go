package report

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of every document this
// package writes: "#/$defs/resolution" for a Resolution, "#/$defs/infra"
// for an Infra.
//
//go:embed resolution.schema.json
var Schema []byte

// SchemaID is the schema's $id.
const SchemaID = "https://addrwalk.example.org/schema/resolution.schema.json"
