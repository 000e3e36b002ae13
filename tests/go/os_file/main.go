// The Go side of tests/os_file.rs: runs a fixed list of os calls in a fresh temporary
// directory and prints one line per case, "LABEL<TAB>RESULT", with the directory's path
// replaced by TMP. tests/os_file.rs runs the same list through gonet::os and compares the
// lines, byte for byte.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

var tmp string

func show(label string, err error) {
	text := "<nil>"
	if err != nil {
		text = err.Error()
	}
	fmt.Printf("%s\t%s\n", label, strings.ReplaceAll(text, tmp, "TMP"))
}

func main() {
	d, err := os.MkdirTemp("", "gonet-os-parity-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(d)
	tmp = d
	f := d + "/f"
	show("write_file", os.WriteFile(f, []byte("hello"), 0644))

	_, err = os.Open("/nope")
	show("open missing", err)
	_, err = os.Open("")
	show("open empty", err)
	_, err = os.Open("a\x00b")
	show("open nul", err)
	_, err = os.ReadFile("/nope")
	show("read_file missing", err)
	_, err = os.ReadFile(d)
	show("read_file dir", err)
	show("write_file dir", os.WriteFile(d, []byte("x"), 0644))
	show("write_file no parent", os.WriteFile("/nope/x", []byte("x"), 0644))
	_, err = os.Stat("/nope")
	show("stat missing", err)
	_, err = os.Stat(f + "/x")
	show("stat under file", err)
	_, err = os.Lstat("/nope")
	show("lstat missing", err)
	_, err = os.ReadDir("/nope")
	show("read_dir missing", err)
	_, err = os.ReadDir(f)
	show("read_dir file", err)
	show("remove missing", os.Remove("/nope"))
	show("rename missing", os.Rename("/nope", d+"/x"))
	show("rename onto dir", os.Rename(f, d))
	show("mkdir exists", os.Mkdir(d, 0755))
	show("mkdir_all under file", os.MkdirAll(f+"/sub", 0755))
	show("mkdir_all exists", os.MkdirAll(d, 0755))
	_, err = os.OpenFile(f, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0644)
	show("open_file excl", err)

	fh, _ := os.Open(f)
	_, err = fh.Write([]byte("x"))
	show("write read-only", err)
	_, err = fh.Seek(-1, io.SeekStart)
	show("seek negative", err)
	buf := make([]byte, 10)
	n, err := fh.Read(buf)
	show(fmt.Sprintf("read %d %q", n, buf[:n]), err)
	n, _ = fh.Read(buf)
	show(fmt.Sprintf("read at end %d", n), nil)
	n, _ = fh.ReadAt(buf, 2)
	show(fmt.Sprintf("read_at %d %q", n, buf[:n]), nil)
	fi, err := fh.Stat()
	show(fmt.Sprintf("stat %s %d %v %v", fi.Name(), fi.Size(), fi.Mode(), fi.IsDir()), err)
	show("close", fh.Close())
	show("close twice", fh.Close())
	_, err = fh.Read(buf)
	show("read closed", err)
	_, err = fh.Write(buf)
	show("write closed", err)
	_, err = fh.Stat()
	show("stat closed", err)
	_, err = fh.Seek(0, io.SeekStart)
	show("seek closed", err)
	show(fmt.Sprintf("closed is ErrClosed %v", errors.Is(err, os.ErrClosed)), nil)

	_, err = os.Open("/nope")
	show(fmt.Sprintf("is_not_exist %v %v", os.IsNotExist(err), os.IsExist(err)), nil)
	show("ErrNotExist", os.ErrNotExist)
	show("ErrExist", os.ErrExist)
	show("ErrPermission", os.ErrPermission)
	show("ErrClosed", os.ErrClosed)

	os.Chmod(d, 0700)
	di, _ := os.Stat(d)
	show(fmt.Sprintf("dir mode %v %v", di.Mode(), di.Mode().Perm()), nil)
	os.Mkdir(d+"/sub", 0700)
	os.Symlink(f, d+"/link")
	es, err := os.ReadDir(d)
	show(fmt.Sprintf("read_dir %d", len(es)), err)
	for _, e := range es {
		i, _ := e.Info()
		show(fmt.Sprintf("entry %s %v %v %v", e.Name(), e.IsDir(), e.Type(), i.Mode()), nil)
	}
	dh, _ := os.Open(d)
	es, err = dh.ReadDir(1)
	show(fmt.Sprintf("dir read_dir(1) %d", len(es)), err)
	es, err = dh.ReadDir(5)
	show(fmt.Sprintf("dir read_dir(5) %d", len(es)), err)
	dh.Close()

	fw, _ := os.Create(f)
	n, err = fw.WriteString("abc")
	show(fmt.Sprintf("write_string %d", n), err)
	n, _ = fw.Read(buf)
	show(fmt.Sprintf("create is read-write: read at end %d", n), nil)
	fw.Close()
	b, err := os.ReadFile(f)
	show(fmt.Sprintf("read_file %q", b), err)
	show("remove non-empty dir", os.Remove(d))
	show("remove_all missing", os.RemoveAll("/nope/never"))
	show("remove_all dot", os.RemoveAll(d+"/."))
	_, err = os.MkdirTemp(d, "a/b")
	show("mkdir_temp separator", err)
	_, err = os.CreateTemp("/nope", "x")
	show(fmt.Sprintf("create_temp missing dir %v", os.IsNotExist(err)), nil)
}
