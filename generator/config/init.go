package config

// Checkout is what gen init found out about a checkout: the values that
// differ from the built-in defaults for it. Empty fields keep the defaults.
type Checkout struct {
	// RepoURL and Revision are where Argo CD reads the tree (spec.git).
	RepoURL, Revision string
	// NodeIP is the laptop's node address (spec.environments[0].nodeIP).
	NodeIP string
}

// The few fields gen init writes, in the order of Platform's, so that
// AnnotatedYAML documents them from FieldDocs like gen config default.
type initDoc struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Spec       initSpec `json:"spec"`
}

type initSpec struct {
	Git          *initGit  `json:"git,omitempty"`
	Environments []initEnv `json:"environments,omitempty"`
}

type initGit struct {
	RepoURL  string `json:"repoURL,omitempty"`
	Revision string `json:"revision,omitempty"`
}

type initEnv struct {
	Name   string `json:"name"`
	NodeIP string `json:"nodeIP,omitempty"`
}

// InitYAML is the gen.yaml gen init writes for a checkout: only the fields
// that differ from the defaults, each with its description, under header
// comment lines (what was found where). Every other field keeps its built-in
// default, so a later gen with newer pins moves them forward.
func InitYAML(c Checkout, header ...string) ([]byte, error) {
	doc := initDoc{APIVersion: APIVersion, Kind: Kind}
	if c.RepoURL != "" || c.Revision != "" {
		doc.Spec.Git = &initGit{RepoURL: c.RepoURL, Revision: c.Revision}
	}
	if c.NodeIP != "" {
		doc.Spec.Environments = []initEnv{{Name: DefaultEnvironment().Name, NodeIP: c.NodeIP}}
	}
	return AnnotatedYAML(doc, header...)
}
