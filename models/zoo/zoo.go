// Package zoo embeds the model manifests (*.yaml) so that a binary can
// describe its models without the source tree. Read them through
// models.Zoo; the weights themselves are never embedded.
package zoo

import "embed"

// FS holds every manifest of this folder, one YAML file per model, named
// <model name>.yaml.
//
//go:embed *.yaml
var FS embed.FS
