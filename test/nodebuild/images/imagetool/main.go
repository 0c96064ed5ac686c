// Command imagetool writes a one-layer image as a docker-archive tarball (what `docker save`
// writes and `ctr images import` reads), from a JSON spec, so the real-node tests need no Docker:
//
//	imagetool -spec image.json -out image.tar
//
// The spec names the tag, the image config (entrypoint, user, workdir, env, labels, ports) and the
// layer's entries: host files or directory trees copied under a path, literal file contents,
// directories and symlinks. Every entry is owned by root and keeps its host permission bits (as
// Docker's COPY does); timestamps are zero and entries sorted, so the same inputs give the same
// image digest.
package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Entry is one path in the layer. Exactly one of From, Content, Dir or Link is set.
type Entry struct {
	Path    string `json:"path"`              // absolute path in the image
	From    string `json:"from,omitempty"`    // host file (symlinks followed) or directory tree (symlinks inside kept)
	Content string `json:"content,omitempty"` // literal file content
	Dir     bool   `json:"dir,omitempty"`     // an empty directory
	Link    string `json:"link,omitempty"`    // a symlink to this target
	Mode    int64  `json:"mode,omitempty"`    // permission bits for Content/Dir (a plain number: 0o1777 is 1023); default 0644/0755
}

// Spec is the whole image.
type Spec struct {
	Tag     string    `json:"tag"`
	Config  v1.Config `json:"config"`
	Entries []Entry   `json:"entries"`
}

type item struct {
	hdr  *tar.Header
	from string // host file for regular files, "" otherwise
	data []byte // literal content
}

func main() {
	specPath := flag.String("spec", "", "image spec (JSON)")
	out := flag.String("out", "", "docker-archive tarball to write")
	flag.Parse()
	if *specPath == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: imagetool -spec image.json -out image.tar")
		os.Exit(2)
	}
	if err := run(*specPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "imagetool:", err)
		os.Exit(1)
	}
}

func run(specPath, out string) error {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var spec Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("spec %s: %w", specPath, err)
	}
	items := map[string]*item{}
	for _, e := range spec.Entries {
		if err := collect(items, e); err != nil {
			return fmt.Errorf("entry %s: %w", e.Path, err)
		}
	}
	layerPath := out + ".layer.tmp"
	defer os.Remove(layerPath)
	if err := writeLayer(layerPath, items); err != nil {
		return err
	}
	layer, err := tarball.LayerFromFile(layerPath, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config = spec.Config
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tag, err := name.NewTag(spec.Tag)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(out, tag, img)
}

// addParents records every missing parent directory of p (mode 0755).
func addParents(items map[string]*item, p string) {
	for dir := path.Dir(p); dir != "/" && dir != "."; dir = path.Dir(dir) {
		if _, ok := items[dir]; !ok {
			items[dir] = &item{hdr: &tar.Header{Typeflag: tar.TypeDir, Mode: 0o755}}
		}
	}
}

func collect(items map[string]*item, e Entry) error {
	p := path.Clean(e.Path)
	if !path.IsAbs(p) {
		return fmt.Errorf("path must be absolute")
	}
	addParents(items, p)
	switch {
	case e.Link != "":
		items[p] = &item{hdr: &tar.Header{Typeflag: tar.TypeSymlink, Linkname: e.Link, Mode: 0o777}}
	case e.Dir:
		items[p] = &item{hdr: &tar.Header{Typeflag: tar.TypeDir, Mode: orDefault(e.Mode, 0o755)}}
	case e.From == "":
		items[p] = &item{hdr: &tar.Header{Typeflag: tar.TypeReg, Mode: orDefault(e.Mode, 0o644), Size: int64(len(e.Content))}, data: []byte(e.Content)}
	default:
		info, err := os.Stat(e.From)
		if err != nil {
			return err
		}
		if !info.IsDir() {
			items[p] = fileItem(e.From, info)
			return nil
		}
		return filepath.WalkDir(e.From, func(host string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(e.From, host)
			target := path.Join(p, filepath.ToSlash(rel))
			info, err := os.Lstat(host)
			if err != nil {
				return err
			}
			switch {
			case info.Mode()&fs.ModeSymlink != 0:
				link, err := os.Readlink(host)
				if err != nil {
					return err
				}
				items[target] = &item{hdr: &tar.Header{Typeflag: tar.TypeSymlink, Linkname: link, Mode: 0o777}}
			case info.IsDir():
				items[target] = &item{hdr: &tar.Header{Typeflag: tar.TypeDir, Mode: int64(info.Mode().Perm())}}
			case info.Mode().IsRegular():
				items[target] = fileItem(host, info)
			}
			return nil
		})
	}
	return nil
}

func orDefault(mode, def int64) int64 {
	if mode == 0 {
		return def
	}
	return mode
}

func fileItem(host string, info fs.FileInfo) *item {
	return &item{hdr: &tar.Header{Typeflag: tar.TypeReg, Mode: int64(info.Mode().Perm()), Size: info.Size()}, from: host}
}

func writeLayer(out string, items map[string]*item) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	paths := make([]string, 0, len(items))
	for p := range items {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		it := items[p]
		hdr := *it.hdr
		hdr.Name = strings.TrimPrefix(p, "/")
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "root", "root"
		hdr.ModTime = time.Unix(0, 0)
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(&hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if it.from == "" {
			if _, err := tw.Write(it.data); err != nil {
				return err
			}
			continue
		}
		src, err := os.Open(it.from)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, src)
		src.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", it.from, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
