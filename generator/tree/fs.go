package tree

import (
	"io"
	"io/fs"
	"os"
)

// fileSystem is every operation through which Write changes the disk. It
// exists so that tests can fail any single one of them (fsys is replaced in
// tests only) and prove that the tree is then the old one or the new one,
// never a mix. Reads and the removal of the staging folder go to the os
// package directly.
type fileSystem interface {
	MkdirTemp(dir, pattern string) (string, error)
	MkdirAll(path string, perm fs.FileMode) error
	// WriteFile creates name (it must not exist) with the content of r.
	WriteFile(name string, r io.Reader, perm fs.FileMode) error
	Rename(oldpath, newpath string) error
}

var fsys fileSystem = osFS{}

type osFS struct{}

func (osFS) MkdirTemp(dir, pattern string) (string, error) { return os.MkdirTemp(dir, pattern) }

func (osFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// WriteFile streams r into a new file, so that copying a large user file
// into the staging folder does not hold it in memory.
func (osFS) WriteFile(name string, r io.Reader, perm fs.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
