// Package generator turns a gen config into the Git-ready kustomize tree: it
// is pure (config in, []manifest.Manifest out; no client, network, clock or
// randomness), so the same config always renders the same bytes.
//
// Layout of the tree it renders:
//
//	manifests/<component>/        environment-neutral bases
//	overlays/<env>/<component>/   per-environment patches on a base
//	overlays/<env>/apps/          the AppProject and one Application per component
//	overlays/<env>/root/          the root Application, applied by gen bootstrap
//	examples/                     SparkApplications for users to apply (not synced)
package generator
