// RFC 6962 (Certificate Transparency) Merkle hashing with WebCrypto, the
// draw's commitment: leaf = SHA-256(0x00 ‖ bytes), node = SHA-256(0x01 ‖
// left ‖ right). Everything here runs in the browser; nothing is sent.

const enc = new TextEncoder();

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(s) {
  if (typeof s !== "string" || s.length % 2 || /[^0-9a-f]/i.test(s)) throw new Error("not hex");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// leafHash is the RFC 6962 hash of a leaf's bytes.
export async function leafHash(bytes) {
  const b = new Uint8Array(bytes.length + 1);
  b.set(bytes, 1);
  return sha256(b);
}

// drawLeafHash is the hash of a draw's leaf "{drawId}|{entryNumber}|{weight}".
export function drawLeafHash(drawId, entryNumber, weight) {
  return leafHash(enc.encode(drawId + "|" + entryNumber + "|" + weight));
}

async function nodeHash(left, right) {
  const b = new Uint8Array(1 + left.length + right.length);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 1 + left.length);
  return sha256(b);
}

// verifyInclusion checks an inclusion proof {leafIndex, auditPath: [hex],
// treeSize, root} for a leaf hash, as RFC 9162 section 2.1.3.2 says: true
// when the path leads from the leaf to the root (and expectedRoot, when
// given, is that root).
export async function verifyInclusion(leaf, proof, expectedRoot) {
  let fn = BigInt(proof.leafIndex), sn = BigInt(proof.treeSize) - 1n;
  if (fn > sn || fn < 0n) return false;
  let r = leaf;
  for (const p of proof.auditPath) {
    if (sn === 0n) return false;
    const node = unhex(p);
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(node, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await nodeHash(r, node);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  const root = hex(r);
  return sn === 0n && root === proof.root && (expectedRoot === undefined || root === expectedRoot);
}

// findLeaf reads a leaves answer (JSON lines) as it streams and returns the
// first line whose leafHash is one of wanted (hex → anything), or null.
export async function findLeaf(response, wanted) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    const text = rest + (value || "");
    const lines = text.split("\n");
    rest = done ? "" : lines.pop();
    for (const line of lines) {
      if (!line) continue;
      const l = JSON.parse(line);
      if (wanted.has(l.leafHash)) { reader.cancel(); return l; }
    }
    if (done) return null;
  }
}
