package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestInitYAMLSetsOnlyTheCheckoutsValues(t *testing.T) {
	out, err := InitYAML(Checkout{RepoURL: "https://github.com/acme/platform.git", Revision: "feature/x", NodeIP: "192.168.5.15"},
		"written by a test")
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"# written by a test\n",
		"# " + FieldDocs["spec.git.repoURL"] + "\n    repoURL: https://github.com/acme/platform.git\n",
		"# " + FieldDocs["spec.git.revision"] + "\n    revision: feature/x\n",
		"# " + FieldDocs["spec.environments[].nodeIP"] + "\n      nodeIP: 192.168.5.15\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("gen.yaml lacks %q:\n%s", want, s)
		}
	}
	got, err := Load("gen.yaml", out)
	if err != nil {
		t.Fatalf("the written gen.yaml does not load: %v\n%s", err, s)
	}
	want := Default()
	want.Spec.Git.RepoURL, want.Spec.Git.Revision = "https://github.com/acme/platform.git", "feature/x"
	want.Spec.Environments[0].NodeIP = "192.168.5.15"
	want.Complete()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("gen.yaml loads as\n%+v\nwant the defaults with the checkout's values\n%+v", got.Spec, want.Spec)
	}
}

func TestInitYAMLWithoutNodeIPKeepsTheDefaultEnvironment(t *testing.T) {
	out, err := InitYAML(Checkout{RepoURL: "https://example.com/r.git", Revision: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "environments") {
		t.Errorf("environments written without a node address:\n%s", out)
	}
	got, err := Load("gen.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Environments[0].NodeIP != DefaultEnvironment().NodeIP {
		t.Errorf("nodeIP = %q, want the default", got.Spec.Environments[0].NodeIP)
	}
}
