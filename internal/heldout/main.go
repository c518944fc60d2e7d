// Command heldout rebuilds report/testdata/heldout: the bounces of
// sisimai's set-of-emails that sisimai labels but that are not in the
// shared corpus, with sisimai's labels, as a held-out measurement for
// queue's TestIncomingHeldOut.
//
// It reads a git directory of github.com/sisimai/go-sisimai (a clone's
// .git or a bare mirror) at one commit, never the network:
//
//	go run ./internal/heldout -git /path/to/go-sisimai/.git
//
// Labels come from the publiclist tables of fact/*_test.go (Label, Index,
// Status, ReplyCode, Reason, HardBounce, AnotherOne), mapped to files the
// way go-sisimai's EngineTest does: maildir/bsd/ + "lhost-" for TestLhost*,
// "rhost-" for TestRhost*, nothing otherwise, + the lowercased engine name
// + "-" + Label + ".eml". A file is held out when it has labels, is in
// maildir/bsd/, and neither its name nor its SHA-256 is among the shared
// corpus's sisimai/bsd files. Files are written byte-identical, with
// expected.tsv (the corpus's columns), SHA256SUMS and the two LICENSE
// files; README.md is written by hand.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// sisimaiCommit is the go-sisimai commit the shared corpus was taken from.
const sisimaiCommit = "ed142ded2c40de1233f82d8405a0acf0b76998c6"

func main() {
	log.SetFlags(0)
	gitDir := flag.String("git", "", "git directory of github.com/sisimai/go-sisimai (required)")
	commit := flag.String("commit", sisimaiCommit, "go-sisimai commit")
	corpus := flag.String("corpus", "report/testdata/corpus", "the shared corpus, whose sisimai/bsd files are left out")
	out := flag.String("out", "report/testdata/heldout", "output directory")
	flag.Parse()
	if *gitDir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*gitDir, *commit, *corpus, *out); err != nil {
		log.Fatalf("heldout: %v", err)
	}
}

// row is one labelled recipient: a line of a publiclist table.
type row struct {
	file                                     string // Name in maildir/bsd/.
	label, index, status, code, reason, hard string
	another, engine, source                  string
	group                                    int // The test case within source.
}

func run(gitDir, commit, corpus, out string) error {
	g := func(args ...string) ([]byte, error) {
		cmd := exec.Command("git", append([]string{"--git-dir=" + gitDir}, args...)...)
		cmd.Stderr = os.Stderr
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return b, nil
	}

	names, err := g("ls-tree", "--name-only", commit, "fact/")
	if err != nil {
		return err
	}
	var rows []row
	for _, p := range strings.Fields(string(names)) {
		if !strings.HasSuffix(p, "_test.go") {
			continue
		}
		src, err := g("show", commit+":"+p)
		if err != nil {
			return err
		}
		rs, err := parseFact(src, p)
		if err != nil {
			return err
		}
		rows = append(rows, rs...)
	}

	// Files in the shared corpus, by name and by content.
	inCorpus := map[string]bool{}
	bsdCorpus := filepath.Join(corpus, "sisimai", "bsd")
	ents, err := os.ReadDir(bsdCorpus)
	if err != nil {
		return err
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(bsdCorpus, e.Name()))
		if err != nil {
			return err
		}
		inCorpus[e.Name()] = true
		inCorpus[sum(b)] = true
	}
	if len(ents) == 0 {
		return fmt.Errorf("no files in %s", bsdCorpus)
	}

	bsd, err := g("ls-tree", "--name-only", commit, "set-of-emails/maildir/bsd/")
	if err != nil {
		return err
	}
	upstream := map[string]bool{}
	for _, p := range strings.Fields(string(bsd)) {
		upstream[path.Base(p)] = true
	}

	// One test case per file: go-sisimai tests rfc3464-01 twice.
	caseOf := map[string]string{}
	files := map[string][]byte{}
	var kept []row
	var missing, corpusRows, dups int
	for _, r := range rows {
		c := fmt.Sprintf("%s#%d", r.source, r.group)
		if prev, ok := caseOf[r.file]; ok && prev != c {
			dups++
			continue
		}
		caseOf[r.file] = c
		if !upstream[r.file] {
			missing++
			log.Printf("%s (%s): labelled, not in maildir/bsd", r.file, r.source)
			continue
		}
		b, ok := files[r.file]
		if !ok && !inCorpus[r.file] {
			b, err = g("show", commit+":set-of-emails/maildir/bsd/"+r.file)
			if err != nil {
				return err
			}
		}
		if inCorpus[r.file] || inCorpus[sum(b)] {
			corpusRows++
			continue
		}
		files[r.file] = b
		kept = append(kept, r)
	}

	sort.SliceStable(kept, func(i, j int) bool {
		if kept[i].file != kept[j].file {
			return kept[i].file < kept[j].file
		}
		a, _ := strconv.Atoi(kept[i].index)
		b, _ := strconv.Atoi(kept[j].index)
		return a < b
	})
	if err := os.MkdirAll(filepath.Join(out, "bsd"), 0o755); err != nil {
		return err
	}
	var tsv, sums bytes.Buffer
	tsv.WriteString("path\tindex\tstatus\treplycode\treason\thardbounce\tfeedbacktype\tengine\tsource_test\n")
	var order []string
	for _, r := range kept {
		fmt.Fprintf(&tsv, "bsd/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.file, r.index, r.status, r.code, r.reason, r.hard, r.another, r.engine, r.source)
		if len(order) == 0 || order[len(order)-1] != r.file {
			order = append(order, r.file)
		}
	}
	for _, f := range order {
		b := files[f]
		if err := os.WriteFile(filepath.Join(out, "bsd", f), b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&sums, "%s  bsd/%s\n", sum(b), f)
	}
	for _, lic := range []string{"LICENSE.go-sisimai", "LICENSE.set-of-emails"} {
		b, err := os.ReadFile(filepath.Join(corpus, "sisimai", lic))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, lic), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(out, "expected.tsv"), tsv.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "SHA256SUMS"), sums.Bytes(), 0o644); err != nil {
		return err
	}
	log.Printf("%d labelled rows (%d of a repeated test case), %d in the shared corpus, %d without a bsd file; held out: %d files, %d rows", len(rows), dups, corpusRows, missing, len(order), len(kept))
	return nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

var (
	// tableRowRe matches a publiclist line such as
	// {"02",   1, "5.2.1",   "550", "userunknown",      true, ""},
	tableRowRe  = regexp.MustCompile(`(\{?)\{\s*"([0-9]+)"\s*,\s*([0-9]+)\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*(true|false)\s*,\s*"([^"]*)"\s*\}`)
	testFuncRe  = regexp.MustCompile(`^func Test(Lhost|Rhost)?`)
	engineCalRe = regexp.MustCompile(`EngineTest\(t,\s*"([^"]+)",\s*publiclist,\s*true\)`)
)

// parseFact returns the rows of the publiclist table of one fact test
// file; the secretlist tables name files that are not published.
func parseFact(src []byte, name string) ([]row, error) {
	var prefix string
	var rows, pending []row
	in := false
	group, pos := 0, 0
	s := bufio.NewScanner(bytes.NewReader(src))
	for s.Scan() {
		line := s.Text()
		if m := testFuncRe.FindStringSubmatch(line); m != nil {
			prefix = strings.ToLower(m[1])
			if prefix != "" {
				prefix += "-"
			}
		}
		if strings.Contains(line, "publiclist :=") {
			in = true
		}
		if !in {
			continue
		}
		if t := strings.TrimSpace(line); !strings.HasPrefix(t, "//") {
			for _, m := range tableRowRe.FindAllStringSubmatch(line, -1) {
				// "{{" opens the rows of one test case: the decoded
				// recipients of one file, compared in order (EngineTest
				// compares by position; Index is only printed).
				if m[1] != "" {
					group++
					pos = 0
				}
				pos++
				pending = append(pending, row{label: m[2], index: strconv.Itoa(pos), status: m[4], code: m[5], reason: m[6], hard: m[7], another: m[8], source: name, group: group})
			}
		}
		if m := engineCalRe.FindStringSubmatch(line); m != nil {
			for _, r := range pending {
				r.engine = m[1]
				r.file = prefix + strings.ToLower(m[1]) + "-" + r.label + ".eml"
				rows = append(rows, r)
			}
			pending, in = nil, false
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("%s: publiclist without an EngineTest call", name)
	}
	return rows, nil
}
