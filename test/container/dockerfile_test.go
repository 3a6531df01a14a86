// Package container checks the Dockerfile's final stage with buildah.
//
// Base images cannot be pulled in CI, so the build stage (FROM golang) is
// not built here. Instead the test builds the static binary the same way
// (CGO_ENABLED=0), takes the final stage's text from the real Dockerfile
// (from the line "FROM scratch AS final" on), points its COPY --from=build
// lines at files in a temporary build context, and builds, inspects and
// runs that image with buildah. The Dockerfile stays the single source of
// truth.
package container

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/test/infra"
)

func TestMain(m *testing.M) { os.Exit(infra.Main(m)) }

const (
	finalStageLine = "FROM scratch AS final"
	// what the final stage copies from the build stage
	binaryInBuild = "/out/sfbex_exporter"
	caBundle      = "/etc/ssl/certs/ca-certificates.crt"
)

func TestDockerfileFinalStage(t *testing.T) {
	infra.Require(t, "buildah")
	root := infra.ModuleRoot(t)

	start := time.Now()
	bin := buildStamped(t, root)
	t.Logf("agent built in %v", time.Since(start))
	assertStatic(t, bin)

	ctxDir := t.TempDir()
	dockerfile := finalStage(t, filepath.Join(root, "Dockerfile"), ctxDir, map[string]string{
		binaryInBuild: bin,
		caBundle:      hostCABundle(t, ctxDir),
	})
	t.Logf("final stage as built:\n%s", dockerfile)

	b := newBuildah(t)
	tag := "localhost/sfbex-test:" + randomHex(t)

	start = time.Now()
	b.run(t, "bud", "--isolation", "chroot", "-t", tag,
		"--build-arg", "VERSION="+stamp.version, "--build-arg", "REVISION="+stamp.revision, "--build-arg", "BUILD_DATE="+stamp.date,
		"-f", filepath.Join(ctxDir, "Dockerfile"), ctxDir)
	t.Cleanup(func() { b.cleanup(t, "rmi", "-f", tag) })
	t.Logf("image built in %v", time.Since(start))

	t.Run("config", func(t *testing.T) {
		var img struct {
			OCIv1 struct {
				Config struct {
					User         string              `json:"User"`
					Entrypoint   []string            `json:"Entrypoint"`
					Cmd          []string            `json:"Cmd"`
					ExposedPorts map[string]struct{} `json:"ExposedPorts"`
					Labels       map[string]string   `json:"Labels"`
					WorkingDir   string              `json:"WorkingDir"`
				} `json:"config"`
			} `json:"OCIv1"`
		}
		out := b.run(t, "inspect", "--type", "image", tag)
		if err := json.Unmarshal([]byte(out), &img); err != nil {
			t.Fatalf("buildah inspect: %v\n%s", err, out)
		}
		c := img.OCIv1.Config
		if c.User != "65534:65534" {
			t.Errorf("User = %q, want 65534:65534 (nobody, not root)", c.User)
		}
		if !slices.Equal(c.Entrypoint, []string{"/sfbex_exporter"}) {
			t.Errorf("Entrypoint = %q, want [/sfbex_exporter]", c.Entrypoint)
		}
		if len(c.Cmd) != 0 {
			t.Errorf("Cmd = %q, want none (arguments go straight to the agent)", c.Cmd)
		}
		if _, ok := c.ExposedPorts["9726/tcp"]; !ok {
			t.Errorf("ExposedPorts = %v, want 9726/tcp", c.ExposedPorts)
		}
		// OCI annotations: what registries and scanners show; version, revision and date from the build args.
		for k, want := range map[string]string{
			"org.opencontainers.image.title":    "sfbex_exporter",
			"org.opencontainers.image.version":  stamp.version,
			"org.opencontainers.image.revision": stamp.revision,
			"org.opencontainers.image.created":  stamp.date,
			"org.opencontainers.image.source":   "https://github.com/sfbex/sfbex_exporter",
		} {
			if got := c.Labels[k]; got != want {
				t.Errorf("label %s = %q, want %q", k, got, want)
			}
		}
		for _, k := range []string{"org.opencontainers.image.description", "org.opencontainers.image.documentation"} {
			if c.Labels[k] == "" {
				t.Errorf("no label %s", k)
			}
		}
		if c.WorkingDir != "/" {
			t.Errorf("WorkingDir = %q, want / (so --help's docs/configuration.md opens)", c.WorkingDir)
		}
	})

	ctr := "sfbex-test-" + randomHex(t)
	b.run(t, "from", "--name", ctr, tag)
	t.Cleanup(func() { b.cleanup(t, "rm", ctr) })

	t.Run("files", func(t *testing.T) {
		mnt := strings.TrimSpace(b.run(t, "mount", ctr))
		defer b.cleanup(t, "umount", ctr)
		fi, err := os.Stat(filepath.Join(mnt, "sfbex_exporter"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			t.Errorf("/sfbex_exporter mode %v: user 65534 cannot run it", fi.Mode())
		}
		if fi, err := os.Stat(filepath.Join(mnt, caBundle)); err != nil || fi.Size() == 0 || fi.Mode().Perm()&0o004 == 0 {
			t.Errorf("%s in the image: %v (want a non-empty, world-readable file)", caBundle, err)
		}
		// The docs --help points to (docs/configuration.md, relative to the working directory /).
		for _, doc := range []string{"docs/configuration.md", "docs/metrics.md", "docs/runbooks.md", "docs/README.md"} {
			want, err := os.ReadFile(filepath.Join(root, strings.Replace(doc, "docs/README.md", "README.md", 1)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(mnt, doc))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("/%s in the image: %v (want the repository's copy)", doc, err)
			}
		}
	})

	t.Run("runs", func(t *testing.T) {
		stdout, stderr, err := b.exec(t, "run", "--isolation", "chroot", ctr, "--", "/sfbex_exporter", "--version")
		out := stdout + stderr // kingpin prints the version on stderr
		if err != nil {
			t.Fatalf("/sfbex_exporter --version in the image: %v\n%s", err, out)
		}
		if !strings.Contains(out, "sfbex_exporter, version "+stamp.version+" ") || !strings.Contains(out, "revision: "+stamp.revision+")") || !strings.Contains(out, stamp.date) {
			t.Errorf("--version printed %q, want version %s, revision %s and date %s as scripts/build.sh stamped them", out, stamp.version, stamp.revision, stamp.date)
		}
	})
}

// stamp is what the test has scripts/build.sh and the image's build args stamp.
var stamp = struct{ version, revision, date string }{"9.8.7-test", "0123456789abcdef0123456789abcdef01234567", "2026-01-02T03:04:05Z"}

// buildStamped builds the agent with scripts/build.sh, the script the
// Dockerfile's build stage runs, with the test's stamp.
func buildStamped(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sfbex_exporter")
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "build.sh"), bin)
	cmd.Env = append(os.Environ(), "VERSION="+stamp.version, "REVISION="+stamp.revision, "BUILD_DATE="+stamp.date, "BRANCH=test")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/build.sh: %v\n%s", err, out)
	}
	return bin
}

// assertStatic fails unless the ELF binary at path is statically linked,
// so it runs on FROM scratch.
func assertStatic(t *testing.T, path string) {
	t.Helper()
	if err := checkStatic(path); err != nil {
		t.Errorf("%v: build it with CGO_ENABLED=0", err)
	}
}

// checkStatic returns an error unless the ELF file at path has neither a
// program interpreter (PT_INTERP) nor a dynamic section (PT_DYNAMIC).
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			interp, _ := io.ReadAll(io.LimitReader(p.Open(), 256))
			return fmt.Errorf("%s is dynamically linked (interpreter %s)", path, bytes.TrimRight(interp, "\x00"))
		case elf.PT_DYNAMIC:
			libs, _ := f.ImportedLibraries()
			return fmt.Errorf("%s has a dynamic section (libraries %v)", path, libs)
		}
	}
	return nil
}

// The check itself: a C program from the system is dynamically linked.
func TestCheckStaticSeesDynamicBinaries(t *testing.T) {
	sh, err := infra.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	sh, _ = filepath.EvalSymlinks(sh)
	err = checkStatic(sh)
	if err == nil {
		t.Skipf("%s is static here; nothing to check against", sh)
	}
	if !strings.Contains(err.Error(), "dynamically linked") {
		t.Fatalf("checkStatic(%s) = %v", sh, err)
	}
}

// finalStage writes to ctxDir/Dockerfile the real Dockerfile's final stage,
// from the line "FROM scratch AS final" on, with each `COPY --from=build
// <src> <dst>` turned into a COPY from the build context; sources maps each
// <src> to the local file to put in the context. It returns the text.
func finalStage(t *testing.T, dockerfile, ctxDir string, sources map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	inFinal := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := sc.Text()
		fields := strings.Fields(line)
		if !inFinal {
			if strings.EqualFold(strings.Join(fields, " "), finalStageLine) {
				inFinal = true
				out = append(out, line)
			}
			continue
		}
		if strings.HasSuffix(strings.TrimSpace(line), `\`) {
			t.Fatalf("Dockerfile:%d: keep the final stage free of line continuations (this test reads it line by line)", lineNo)
		}
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			out = append(out, line)
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			t.Fatalf("Dockerfile:%d: a stage after %q: the final stage must be the last", lineNo, finalStageLine)
		case "COPY", "ADD":
			var flags, args []string
			from := ""
			for _, f := range fields[1:] {
				switch {
				case strings.HasPrefix(f, "--from="):
					from = strings.TrimPrefix(f, "--from=")
				case strings.HasPrefix(f, "--") && len(args) == 0:
					flags = append(flags, f)
				default:
					args = append(args, f)
				}
			}
			if from == "" {
				// From the build context: the repository's files, at the same paths.
				root := filepath.Dir(dockerfile)
				for _, src := range args[:len(args)-1] {
					matches, _ := filepath.Glob(filepath.Join(root, src))
					if len(matches) == 0 {
						t.Fatalf("Dockerfile:%d: %s matches nothing in the repository", lineNo, src)
					}
					for _, m := range matches {
						rel, _ := filepath.Rel(root, m)
						if err := os.MkdirAll(filepath.Join(ctxDir, filepath.Dir(rel)), 0o755); err != nil {
							t.Fatal(err)
						}
						copyFile(t, m, filepath.Join(ctxDir, rel))
					}
				}
				out = append(out, line)
				continue
			}
			if from != "build" || len(args) != 2 {
				t.Fatalf("Dockerfile:%d: %q: the test knows only `COPY --from=build <src> <dst>`", lineNo, line)
			}
			local, ok := sources[args[0]]
			if !ok {
				t.Fatalf("Dockerfile:%d: copies %s from the build stage; teach test/container what to put there", lineNo, args[0])
			}
			name := fmt.Sprintf("ctx%d-%s", lineNo, filepath.Base(args[0]))
			copyFile(t, local, filepath.Join(ctxDir, name))
			out = append(out, strings.Join(append(append([]string{fields[0]}, flags...), name, args[1]), " "))
		default:
			out = append(out, line)
		}
	}
	if !inFinal {
		t.Fatalf("%s has no line %q: the test builds the stage that starts there", dockerfile, finalStageLine)
	}
	text := strings.Join(out, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return text
}

// hostCABundle returns this machine's CA bundle (Debian's ca-certificates),
// or, without one, a stand-in file: the test checks the Dockerfile copies
// it, not its content.
func hostCABundle(t *testing.T, dir string) string {
	if _, err := os.Stat(caBundle); err == nil {
		return caBundle
	}
	t.Logf("%s not found (package ca-certificates); using a stand-in", caBundle)
	p := filepath.Join(dir, "stand-in-ca-certificates.crt")
	if err := os.WriteFile(p, []byte("# stand-in CA bundle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	// The build stage's files are root's and world-readable; keep the
	// executable bit.
	mode := os.FileMode(0o644)
	if fi.Mode()&0o111 != 0 {
		mode = 0o755
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// buildahCLI runs buildah with the vfs driver and storage of its own in a
// temporary directory, so the test neither needs nor touches the machine's
// image store, and tests can run side by side.
type buildahCLI struct {
	path   string
	global []string
}

func newBuildah(t *testing.T) *buildahCLI {
	path, err := infra.LookPath("buildah")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return &buildahCLI{path: path, global: []string{
		"--storage-driver", "vfs",
		"--root", filepath.Join(dir, "storage"),
		"--runroot", filepath.Join(dir, "run"),
	}}
}

// exec runs buildah args and returns its stdout and stderr.
func (b *buildahCLI) exec(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.path, append(append([]string(nil), b.global...), args...)...)
	var o, e bytes.Buffer
	cmd.Stdout = &o
	cmd.Stderr = &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// run runs buildah args, failing the test if it fails; returns its stdout.
func (b *buildahCLI) run(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := b.exec(t, args...)
	if err != nil {
		t.Fatalf("buildah %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// cleanup runs buildah args and reports a failure without stopping.
func (b *buildahCLI) cleanup(t *testing.T, args ...string) {
	t.Helper()
	if out, errOut, err := b.exec(t, args...); err != nil {
		t.Errorf("cleanup: buildah %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
}

// Every base image is named with its registry: buildah and podman refuse short
// names (golang:1.26) without a registries.conf search list.
func TestDockerfileBaseImagesFullyQualified(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(infra.ModuleRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	froms := 0
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		froms++
		image := f[1]
		if image == "scratch" {
			continue
		}
		host, _, ok := strings.Cut(image, "/")
		if !ok || !strings.ContainsAny(host, ".:") && host != "localhost" {
			t.Errorf("Dockerfile:%d: FROM %s is a short name; write the registry, e.g. docker.io/library/%s", i+1, image, image)
		}
	}
	if froms == 0 {
		t.Fatal("no FROM in the Dockerfile")
	}
}

// What the final stage copies from the build context is not left out of it by
// .dockerignore (the final-stage test copies from the repository, so it
// would not see that).
func TestDockerignoreKeepsWhatTheImageCopies(t *testing.T) {
	root := infra.ModuleRoot(t)
	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.EqualFold(f[0], "COPY") || strings.HasPrefix(f[1], "--from=") || f[1] == "." {
			continue
		}
		for _, src := range f[1 : len(f)-1] {
			matches, _ := filepath.Glob(filepath.Join(root, src))
			for _, m := range matches {
				rel, _ := filepath.Rel(root, m)
				checked++
				if dockerignored(string(ignore), filepath.ToSlash(rel)) {
					t.Errorf("COPY %s: .dockerignore leaves %s out of the build context", src, rel)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no COPY from the build context found")
	}
	if !dockerignored("*.md\n!README.md\n", "CHANGES.md") || dockerignored("*.md\n!README.md\n", "README.md") || !dockerignored("docs\n", "docs/a.md") {
		t.Error("dockerignored does not follow .dockerignore's rules")
	}
}

// dockerignored applies .dockerignore's patterns in order (the last match
// wins; "!" re-includes; a pattern matching a directory excludes what is in it).
func dockerignored(patterns, rel string) bool {
	out := false
	for _, p := range strings.Split(patterns, "\n") {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(strings.TrimPrefix(p, "!"), "/")
		p = strings.TrimPrefix(p, "**/")
		matched := false
		parts := strings.Split(rel, "/")
		for i := 1; i <= len(parts); i++ {
			if ok, _ := filepath.Match(p, strings.Join(parts[:i], "/")); ok {
				matched = true
			}
		}
		if matched {
			out = !neg
		}
	}
	return out
}
