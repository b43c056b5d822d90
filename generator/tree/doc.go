// Package tree writes a rendered tree to disk and checks a tree on disk
// against a render.
//
// Ownership: a file is gen's when it starts with gen's header line
// (manifest.HeaderPrefix). gen rewrites and removes only its own files; a
// file without the header is the user's and is never touched, even inside
// manifests/ or overlays/.
//
// Atomicity: each managed root folder (manifests/, overlays/, examples/) is
// built complete in a staging folder beside it, user files copied in, then
// swapped in with renames; a failure before the swap leaves the old tree as
// it was, and a failure during the swap rolls back the roots already swapped.
// Only when that roll back fails too (the disk refuses renames) is the tree
// left a mix; the error is then a *PartialError naming the staging folder
// that still holds the previous roots, which is kept, not deleted.
package tree
