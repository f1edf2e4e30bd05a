"""An independent implementation of neardup's fingerprint definition (see src/hash.rs,
src/minhash.rs, src/lsh.rs), used to compute the golden values pinned in
src/fingerprint.rs. Run: pip install xxhash && python3 tests/fingerprint_reference.py

The tokenizer here is a simplified one that agrees with src/normalize.rs on the
golden texts only."""
import re, struct, unicodedata, xxhash
M = (1 << 64) - 1
def splitmix(seed):
    s = seed
    while True:
        s = (s + 0x9e3779b97f4a7c15) & M
        z = s
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
        yield z ^ (z >> 31)
def tokens(text):
    t = unicodedata.normalize('NFKC', text).lower()
    return [w.replace("'", "").replace("\u2019", "") for w in re.findall(r"[^\W_]+(?:['\u2019.][^\W_]+)*", t)]
def fingerprint(text, n=5, num_perm=128, bands=25, rows=5, content_seed=0x6e65617264757031):
    toks = tokens(text)
    th = [xxhash.xxh3_64_intdigest(t.encode(), 0) for t in toks]
    enc = b''.join(struct.pack('<Q', h) for h in th)
    w = min(n, len(th))
    sh = [xxhash.xxh3_64_intdigest(enc[8*i:8*(i+w)], 0) for i in range(len(th) - w + 1)]
    content = xxhash.xxh3_64_intdigest(enc, content_seed)
    g = splitmix(0)
    coef = []
    for _ in range(num_perm):
        a = next(g) | 1; b = next(g) >> 32; coef.append((a, b))
    sig = []
    for a, b in coef:
        sig.append(min((((a * ((s & 0xffffffff) ^ (s >> 32))) + (b << 32)) & M) >> 32 for s in sh))
    keys = [xxhash.xxh3_64_intdigest(b''.join(struct.pack('<I', v) for v in sig[j*rows:(j+1)*rows]), j) for j in range(bands)]
    return toks, content, sig, keys
for text in ["The harbour board voted on Tuesday to rebuild the old north pier.", "Related Topics", "\u201c\u00c9lan\u201d \u2014 \ufb01nal \u039f\u0394\u039f\u03a3 test, na\u00efve caf\u00e9."]:
    toks, c, sig, keys = fingerprint(text)
    print(toks)
    print(f"0x{c:016x}", [f"0x{v:08x}" for v in sig[:4]], f"0x{keys[0]:016x}")
g = splitmix(0); print([hex(next(g)) for _ in range(3)])
