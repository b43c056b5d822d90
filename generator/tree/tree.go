package tree

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rdspark/gen/generator/manifest"
)

// Result says what a Write changed, as tree paths.
type Result struct {
	Added, Changed, Removed []string
	Unchanged               int
}

// Changes is the number of files added, changed or removed.
func (r Result) Changes() int { return len(r.Added) + len(r.Changed) + len(r.Removed) }

// Difference is one file where the disk differs from the render.
type Difference struct {
	Path string
	// Kind is "missing" (rendered, not on disk), "changed", or "stale" (gen's
	// file on disk that the config no longer renders).
	Kind string
}

func (d Difference) String() string { return d.Kind + ": " + d.Path }

// StagingPrefix names the temporary folders Write creates in the output root.
const StagingPrefix = ".gen-render-"

// Write makes the roots under out hold exactly ms plus the user's own files.
// Every manifest path must lie inside one of roots.
func Write(out string, roots []string, ms []manifest.Manifest) (Result, error) {
	desired, err := byRoot(roots, ms)
	if err != nil {
		return Result{}, err
	}
	if err := fsys.MkdirAll(out, 0o755); err != nil {
		return Result{}, fmt.Errorf("create output folder: %w", err)
	}
	current, user, err := readRoots(out, roots)
	if err != nil {
		return Result{}, err
	}
	if err := userFileConflicts(user, ms); err != nil {
		return Result{}, err
	}
	result := compare(current, ms)
	if result.Changes() == 0 {
		return result, nil
	}

	staging, err := fsys.MkdirTemp(out, StagingPrefix)
	if err != nil {
		return Result{}, fmt.Errorf("create staging folder: %w", err)
	}
	keepStaging := false
	defer func() {
		if !keepStaging {
			os.RemoveAll(staging)
		}
	}()

	// Build each changed root completely before touching the real tree.
	var changedRoots []string
	for _, root := range roots {
		if !rootChanged(root, result) {
			continue
		}
		changedRoots = append(changedRoots, root)
		for _, f := range user[root] {
			if err := copyFile(filepath.Join(out, filepath.FromSlash(f)), filepath.Join(staging, filepath.FromSlash(f))); err != nil {
				return Result{}, fmt.Errorf("keep user file %s: %w", f, err)
			}
		}
		for _, m := range desired[root] {
			if err := writeFile(filepath.Join(staging, filepath.FromSlash(m.Path)), m.Content); err != nil {
				return Result{}, fmt.Errorf("write %s: %w", m.Path, err)
			}
		}
	}
	if err := swap(out, staging, changedRoots); err != nil {
		// When the roll back failed too, the staging folder holds the
		// previous roots: it is the only copy left, so it stays.
		var partial *PartialError
		keepStaging = errors.As(err, &partial)
		return Result{}, err
	}
	return result, nil
}

// PartialError is a failed swap whose roll back failed too: the roots under
// out are a mix of the old and the new tree, and the previous versions of
// the roots already replaced are kept in Staging (as old-<root>), to be
// moved back by hand. Write leaves the old tree untouched in every other
// failure.
type PartialError struct {
	Err      error
	Rollback error
	Staging  string
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%v; putting the previous tree back failed too (%v): the previous folders are kept in %s as old-<folder>, move them back by hand", e.Err, e.Rollback, e.Staging)
}

func (e *PartialError) Unwrap() error { return e.Err }

// swap renames each staged root into place, keeping the old one until all
// are in; on a failure it puts back the roots it already replaced. When
// putting back fails too, the error is a *PartialError.
func swap(out, staging string, roots []string) error {
	type done struct{ root, old string }
	var swapped []done
	fail := func(err error, current *done) error {
		var errs []error
		restore := func(d done) {
			live := filepath.Join(out, d.root)
			if _, err := os.Lstat(live); err == nil {
				if err := fsys.Rename(live, filepath.Join(staging, "failed-"+d.root)); err != nil {
					errs = append(errs, fmt.Errorf("move new %s aside: %w", d.root, err))
					return
				}
			}
			if d.old != "" {
				if err := fsys.Rename(d.old, live); err != nil {
					errs = append(errs, fmt.Errorf("put back %s: %w", d.root, err))
				}
			}
		}
		if current != nil && current.old != "" {
			restore(*current)
		}
		for i := len(swapped) - 1; i >= 0; i-- {
			restore(swapped[i])
		}
		if len(errs) > 0 {
			return &PartialError{Err: err, Rollback: errors.Join(errs...), Staging: staging}
		}
		return err
	}
	for _, root := range roots {
		live := filepath.Join(out, root)
		next := filepath.Join(staging, root)
		if _, err := os.Stat(next); errors.Is(err, fs.ErrNotExist) {
			// Nothing of this root is left (no gen files, no user files).
			if err := fsys.MkdirAll(next, 0o755); err != nil {
				return fail(fmt.Errorf("stage %s: %w", root, err), nil)
			}
		}
		current := done{root: root}
		if _, err := os.Lstat(live); err == nil {
			current.old = filepath.Join(staging, "old-"+root)
			if err := fsys.Rename(live, current.old); err != nil {
				return fail(fmt.Errorf("replace %s: %w", root, err), nil)
			}
		}
		if err := fsys.Rename(next, live); err != nil {
			return fail(fmt.Errorf("replace %s: %w", root, err), &current)
		}
		swapped = append(swapped, current)
		// An emptied root is not worth keeping as an empty folder.
		if entries, err := os.ReadDir(live); err == nil && len(entries) == 0 {
			_ = os.Remove(live)
		}
	}
	return nil
}

// Check lists the differences between the tree under out and ms, sorted by path.
func Check(out string, roots []string, ms []manifest.Manifest) ([]Difference, error) {
	if _, err := byRoot(roots, ms); err != nil {
		return nil, err
	}
	current, user, err := readRoots(out, roots)
	if err != nil {
		return nil, err
	}
	if err := userFileConflicts(user, ms); err != nil {
		return nil, err
	}
	r := compare(current, ms)
	var diffs []Difference
	for _, p := range r.Added {
		diffs = append(diffs, Difference{p, "missing"})
	}
	for _, p := range r.Changed {
		diffs = append(diffs, Difference{p, "changed"})
	}
	for _, p := range r.Removed {
		diffs = append(diffs, Difference{p, "stale"})
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].Path < diffs[j].Path })
	return diffs, nil
}

// userFileConflicts refuses to replace a file gen did not write (no header)
// with one it renders: it is the user's (a hand-written image/Dockerfile, say).
func userFileConflicts(user map[string][]string, ms []manifest.Manifest) error {
	mine := map[string]bool{}
	for _, files := range user {
		for _, f := range files {
			mine[f] = true
		}
	}
	var conflicts []string
	for _, m := range ms {
		if mine[m.Path] {
			conflicts = append(conflicts, m.Path)
		}
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("refusing to overwrite %s: not written by gen (no %q header line); move it away or delete it, then render again", strings.Join(conflicts, ", "), manifest.HeaderPrefix)
	}
	return nil
}

// byRoot groups manifests by root and rejects any path that would escape it.
func byRoot(roots []string, ms []manifest.Manifest) (map[string][]manifest.Manifest, error) {
	out := map[string][]manifest.Manifest{}
	seen := map[string]bool{}
	for _, m := range ms {
		if !manifest.SafePath(m.Path) {
			return nil, fmt.Errorf("refusing to write %q: not a clean relative path", m.Path)
		}
		root, _, found := strings.Cut(m.Path, "/")
		if !found || !contains(roots, root) {
			return nil, fmt.Errorf("refusing to write %q: outside the managed folders %s", m.Path, strings.Join(roots, ", "))
		}
		if seen[m.Path] {
			return nil, fmt.Errorf("refusing to write %q twice", m.Path)
		}
		seen[m.Path] = true
		out[root] = append(out[root], m)
	}
	return out, nil
}

// readRoots reads gen's files under each root (path -> content) and lists the
// user's files. A root that is a symlink, or a symlink inside a root, could
// lead writes outside out, so it is an error.
func readRoots(out string, roots []string) (map[string][]byte, map[string][]string, error) {
	gen := map[string][]byte{}
	user := map[string][]string{}
	for _, root := range roots {
		dir := filepath.Join(out, root)
		info, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", root, err)
		}
		if !info.IsDir() {
			return nil, nil, fmt.Errorf("%s is not a folder (symlinks and files are not allowed where gen writes)", dir)
		}
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(out, p)
			rel = filepath.ToSlash(rel)
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				return fmt.Errorf("%s is a symlink; gen does not write through symlinks", rel)
			case d.IsDir():
				return nil
			case !d.Type().IsRegular():
				return fmt.Errorf("%s is not a regular file", rel)
			}
			content, mine, err := readIfGenerated(p)
			if err != nil {
				return err
			}
			if mine {
				gen[rel] = content
			} else {
				user[root] = append(user[root], rel)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", root, err)
		}
	}
	return gen, user, nil
}

func compare(current map[string][]byte, ms []manifest.Manifest) Result {
	var r Result
	want := map[string]bool{}
	for _, m := range ms {
		want[m.Path] = true
		old, ok := current[m.Path]
		switch {
		case !ok:
			r.Added = append(r.Added, m.Path)
		case !bytes.Equal(old, m.Content):
			r.Changed = append(r.Changed, m.Path)
		default:
			r.Unchanged++
		}
	}
	for p := range current {
		if !want[p] {
			r.Removed = append(r.Removed, p)
		}
	}
	sort.Strings(r.Added)
	sort.Strings(r.Changed)
	sort.Strings(r.Removed)
	return r
}

func rootChanged(root string, r Result) bool {
	for _, list := range [][]string{r.Added, r.Changed, r.Removed} {
		for _, p := range list {
			if strings.HasPrefix(p, root+"/") {
				return true
			}
		}
	}
	return false
}

// readIfGenerated reads p whole when it starts with gen's header, and only
// that far when it does not: a user's file (a large data file kept in
// examples/, say) is never loaded into memory.
func readIfGenerated(p string) ([]byte, bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	head := make([]byte, len(manifest.HeaderPrefix)+1)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, false, err
	}
	if !manifest.IsGenerated(head[:n]) {
		return nil, false, nil
	}
	rest, err := io.ReadAll(f)
	if err != nil {
		return nil, false, err
	}
	return append(head[:n], rest...), true, nil
}

func writeFile(p string, content []byte) error {
	if err := fsys.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return fsys.WriteFile(p, bytes.NewReader(content), 0o644)
}

// copyFile streams a user's file into the staging folder.
func copyFile(from, to string) error {
	f, err := os.Open(from)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if err := fsys.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return fsys.WriteFile(to, f, info.Mode().Perm())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
