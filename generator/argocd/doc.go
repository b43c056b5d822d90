// Package argocd renders Argo CD itself (the upstream install manifests of a
// pinned release, by URL, plus gen's patches and an Ingress) and the Argo CD
// objects that tie the tree together: the AppProject, one Application per
// component, and the root Application of the app-of-apps.
//
// The Application and AppProject types are small local structs with only the
// fields gen emits, not the argo-cd Go module (see DESIGN.md, decision 4);
// the integration tests check them against the real CRD schemas.
package argocd
