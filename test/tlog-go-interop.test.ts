// Cross-check of src/tlog against an implementation we did not write: golang.org/x/mod's
// sumdb/note and sumdb/tlog (Debian golang-go + golang-golang-x-mod-dev, built offline in GOPATH
// mode). The Go program is generated here, in a temp dir: it verifies our signed checkpoint,
// reads our tiles through tlog.TileHashReader (which authenticates every tile against the tree
// hash), recomputes proofs and checks ours; it also signs with our key text for a byte compare.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { after, describe, it } from 'node:test';
import {
  appendToPosixLog,
  FileTileFetcher,
  formatCheckpoint,
  generateNoteKey,
  merkleTreeHash,
  openCheckpoint,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  proveConsistency,
  proveInclusion,
  signNote,
} from '../src/tlog/index.ts';
import { haveComponents } from './support/components.ts';

const run = promisify(execFile);
const X_MOD = '/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog/tlog.go';

const GO_PROGRAM = String.raw`package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

// sumdb paths are tile/8/L/NNN[.p/W]; C2SP tlog-tiles drops the height: tile/L/NNN[.p/W].
func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
		data, err := os.ReadFile(filepath.Join(d.dir, p))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// encoding/json matches the lower-case keys to these fields case-insensitively.
type request struct {
	Inclusion []struct {
		Index int64
		Proof []string
	}
	Consistency []struct {
		Size  int64
		Root  string
		Proof []string
	}
}

func hashes(b64 []string) []tlog.Hash {
	out := make([]tlog.Hash, len(b64))
	for i, s := range b64 {
		raw, err := base64.StdEncoding.DecodeString(s)
		check(err)
		copy(out[i][:], raw)
	}
	return out
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
}

func entries(dir string, size int64) [][]byte {
	var all [][]byte
	for n := int64(0); n*256 < size; n++ {
		w := size - n*256
		p := tlog.Tile{H: 8, L: 0, N: n, W: 256}.Path()
		if w < 256 {
			p = tlog.Tile{H: 8, L: 0, N: n, W: int(w)}.Path()
		} else {
			w = 256
		}
		data, err := os.ReadFile(filepath.Join(dir, "tile/entries/"+strings.TrimPrefix(p, "tile/8/0/")))
		check(err)
		for i := int64(0); i < w; i++ {
			l := int(binary.BigEndian.Uint16(data))
			all = append(all, data[2:2+l])
			data = data[2+l:]
		}
		if len(data) != 0 {
			check(fmt.Errorf("trailing bytes in bundle %d", n))
		}
	}
	return all
}

func verify(dir, vkey, reqFile string) {
	v, err := note.NewVerifier(vkey)
	check(err)
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	check(err)
	n, err := note.Open(msg, note.VerifierList(v))
	check(err)
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	check(err)
	root := hashes([]string{lines[2]})[0]

	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, dirTiles{dir})
	th, err := tlog.TreeHash(size, hr)
	check(err)
	if th != root {
		check(fmt.Errorf("tree hash %v != checkpoint root %v", th, root))
	}
	all := entries(dir, size)
	if int64(len(all)) != size {
		check(fmt.Errorf("%d entries for size %d", len(all), size))
	}
	// Every entry is at its leaf position (checked through authenticated tiles).
	indexes := make([]int64, len(all))
	for i := range all {
		indexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leaves, err := hr.ReadHashes(indexes)
	check(err)
	for i, e := range all {
		if leaves[i] != tlog.RecordHash(e) {
			check(fmt.Errorf("entry %d does not match its leaf hash", i))
		}
	}

	raw, err := os.ReadFile(reqFile)
	check(err)
	var req request
	check(json.Unmarshal(raw, &req))
	for _, inc := range req.Inclusion {
		ours := tlog.RecordProof(hashes(inc.Proof))
		check(tlog.CheckRecord(ours, size, root, inc.Index, tlog.RecordHash(all[inc.Index])))
		theirs, err := tlog.ProveRecord(size, inc.Index, hr)
		check(err)
		if fmt.Sprint(theirs) != fmt.Sprint(ours) {
			check(fmt.Errorf("inclusion proof for %d differs", inc.Index))
		}
	}
	for _, c := range req.Consistency {
		ours := tlog.TreeProof(hashes(c.Proof))
		old := hashes([]string{c.Root})[0]
		check(tlog.CheckTree(ours, size, root, c.Size, old))
		theirs, err := tlog.ProveTree(size, c.Size, hr)
		check(err)
		if fmt.Sprint(theirs) != fmt.Sprint(ours) {
			check(fmt.Errorf("consistency proof from %d differs", c.Size))
		}
	}
	fmt.Printf("OK %d %d %d\n", size, len(req.Inclusion), len(req.Consistency))
}

func sign(skey, textFile string) {
	s, err := note.NewSigner(skey)
	check(err)
	text, err := os.ReadFile(textFile)
	check(err)
	msg, err := note.Sign(&note.Note{Text: string(text)}, s)
	check(err)
	os.Stdout.Write(msg)
}

func generate(name string) {
	skey, vkey, err := note.GenerateKey(nil, name)
	check(err)
	s, err := note.NewSigner(skey)
	check(err)
	msg, err := note.Sign(&note.Note{Text: "go signed this\n"}, s)
	check(err)
	out, _ := json.Marshal(map[string]string{"skey": skey, "vkey": vkey, "note": string(msg)})
	os.Stdout.Write(out)
}

func main() {
	switch os.Args[1] {
	case "verify":
		verify(os.Args[2], os.Args[3], os.Args[4])
	case "sign":
		sign(os.Args[2], os.Args[3])
	case "generate":
		generate(os.Args[2])
	}
}
`;

describe('tlog against golang.org/x/mod sumdb (Go)', () => {
  const root = mkdtempSync(join(tmpdir(), 'custody-tlog-go-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let built: string | undefined;

  async function goTool(t: TestContext): Promise<string | undefined> {
    if (!haveComponents(t, 'go', X_MOD)) return undefined;
    if (built !== undefined) return built;
    const src = join(root, 'gopath', 'src', 'tlogcheck');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'main.go'), GO_PROGRAM);
    const env = {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${join(root, 'gopath')}:/usr/share/gocode`,
      GOCACHE: join(root, 'gocache'),
      GOFLAGS: '',
      GOPROXY: 'off',
    };
    built = join(root, 'tlogcheck');
    await run('go', ['build', '-o', built, 'tlogcheck'], { env, cwd: src });
    return built;
  }

  it('verifies our checkpoint, tiles, entry bundles and proofs, and computes the same proofs', async (t) => {
    const tool = await goTool(t);
    if (tool === undefined) return;
    const dir = join(root, 'log');
    const origin = 'example.com/go-interop';
    const { signerKey, verifierKey } = generateNoteKey(origin);
    const key = parseSignerKey(signerKey);
    const entry = (i: number) => Buffer.from(`go interop entry ${i}`);
    const sizes = [1, 7, 256, 1000, 65536 + 1234];
    let appended = 0;
    for (const size of sizes) {
      await appendToPosixLog({ dir, origin, key }, Array.from({ length: size - appended }, (_, i) => entry(appended + i)));
      appended = size;
    }
    const fetcher = new FileTileFetcher(dir);
    const head = openCheckpoint((await fetcher.fetchTile('checkpoint'))!, { log: key.verifier }).checkpoint;
    const b64 = (hs: Uint8Array[]) => hs.map((h) => Buffer.from(h).toString('base64'));
    const inclusion = [];
    for (const index of [0, 1, 255, 256, 999, 65535, 65536, head.size - 1]) {
      inclusion.push({ index, proof: b64((await proveInclusion(fetcher, head, index)).proof) });
    }
    const consistency = [];
    for (const size of sizes.slice(0, -1)) {
      const rootHash = merkleTreeHash(Array.from({ length: size }, (_, i) => entry(i)));
      const proof = await proveConsistency(fetcher, { size, rootHash }, head);
      consistency.push({ size, root: Buffer.from(rootHash).toString('base64'), proof: b64(proof) });
    }
    const req = join(root, 'request.json');
    writeFileSync(req, JSON.stringify({ inclusion, consistency }));
    const { stdout } = await run(tool, ['verify', dir, verifierKey, req], { maxBuffer: 1 << 20 });
    assert.equal(stdout.trim(), `OK ${head.size} ${inclusion.length} ${consistency.length}`);
    // And the Go side is not vacuous: one flipped bit in a level-1 tile makes it fail.
    const tile = join(dir, 'tile/1/000');
    const data = readFileSync(tile);
    data[100]! ^= 1;
    writeFileSync(tile, data);
    await assert.rejects(run(tool, ['verify', dir, verifierKey, req]), (e: { stderr?: string }) => /FAIL/.test(e.stderr ?? ''));
  });

  it('signs a checkpoint with our key text byte-identically to us', async (t) => {
    const tool = await goTool(t);
    if (tool === undefined) return;
    const { signerKey } = generateNoteKey('example.com/byte-compare');
    const text = formatCheckpoint({ origin: 'example.com/byte-compare', size: 12345, rootHash: new Uint8Array(32).fill(7), extensions: ['ext'] });
    const file = join(root, 'text.txt');
    writeFileSync(file, text);
    const { stdout } = await run(tool, ['sign', signerKey, file]);
    assert.equal(stdout, await signNote(text, [parseSignerKey(signerKey).signer]));
  });

  it('reads key texts and notes that Go generated', async (t) => {
    const tool = await goTool(t);
    if (tool === undefined) return;
    const { stdout } = await run(tool, ['generate', 'go.example/key']);
    const { skey, vkey, note } = JSON.parse(stdout) as { skey: string; vkey: string; note: string };
    const pair = parseSignerKey(skey);
    assert.equal(pair.verifierKey, vkey);
    assert.equal(openNote(note, [parseVerifierKey(vkey)]).text, 'go signed this\n');
    assert.equal(await signNote('go signed this\n', [pair.signer]), note);
  });
});
