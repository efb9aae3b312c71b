// Checks a chain-of-title receipt in the browser with Web Crypto, trusting neither the page's
// server nor the receipt: the checkpoint's Ed25519 signature under the ledger key (C2SP signed
// note), the checkpoint's tree size and root, the entry's RFC 6962 leaf hash, the inclusion
// proof up to that root (RFC 9162 §2.1.3.2), and that the files are the ones the entry names.

const encoder = new TextEncoder();

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function hex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

const leafPrefix = new Uint8Array([0]);
const nodePrefix = new Uint8Array([1]);

// The root an inclusion proof implies (RFC 9162 §2.1.3.2).
export async function rootFromInclusion(index, size, leafHash, proof) {
  if (index < 0 || index >= size) throw new Error(`leaf ${index} is outside a tree of ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new Error("the inclusion proof is longer than the tree is deep");
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(nodePrefix, p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await sha256(nodePrefix, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("the inclusion proof is shorter than the tree is deep");
  return r;
}

// A C2SP verifier key: name+keyid+base64(0x01 ‖ Ed25519 public key).
export async function parseVerifierKey(text) {
  // The key's base64 may itself contain "+": only the first two separate fields.
  const trimmed = text.trim();
  const first = trimmed.indexOf("+");
  const second = trimmed.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new Error("the ledger key is not name+id+key");
  const [name, id, encoded] = [trimmed.slice(0, first), trimmed.slice(first + 1, second), trimmed.slice(second + 1)];
  const raw = fromBase64(encoded);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error("the ledger key is not an Ed25519 key");
  const publicKey = raw.slice(1);
  const computed = hex((await sha256(encoder.encode(name), new Uint8Array([0x0a, 0x01]), publicKey)).slice(0, 4));
  if (computed !== id) throw new Error("the ledger key's id does not match the key");
  return { name, id, publicKey };
}

// Checks the note's signature by `key`; returns the signed text.
async function openNote(note, key) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new Error("the checkpoint has no signature");
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split("\n").filter(Boolean);
  for (const line of lines) {
    const match = /^— (\S+) (\S+)$/.exec(line);
    if (!match || match[1] !== key.name) continue;
    const blob = fromBase64(match[2]);
    if (blob.length !== 68 || hex(blob.slice(0, 4)) !== key.id) continue;
    const verifier = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
    if (await crypto.subtle.verify({ name: "Ed25519" }, verifier, blob.slice(4), encoder.encode(text))) return text;
    throw new Error("the checkpoint's signature does not verify under the ledger key");
  }
  throw new Error(`the checkpoint is not signed by ${key.name}`);
}

// Runs every check; `artifacts` are the job's artifacts, whose bytes are fetched and hashed.
// Returns {verified, steps: [{name, ok, detail}], entry}.
export async function verifyReceipt(receipt, keyText, job) {
  const steps = [];
  const step = async (name, check) => {
    try {
      const detail = await check();
      steps.push({ name, ok: true, detail });
      return true;
    } catch (error) {
      steps.push({ name, ok: false, detail: error.message });
      return false;
    }
  };
  let key;
  let root;
  let entry;
  const entryBytes = fromBase64(receipt.entry);
  await step("Ledger key", async () => {
    key = await parseVerifierKey(keyText);
    return `${key.name} (key id ${key.id})`;
  });
  await step("Checkpoint signature", async () => {
    if (!key) throw new Error("no key to check it with");
    const text = await openNote(receipt.checkpoint, key);
    const [origin, size, rootText] = text.split("\n");
    if (Number(size) !== receipt.tree_size) throw new Error(`the checkpoint is for ${size} entries, the receipt says ${receipt.tree_size}`);
    root = fromBase64(rootText);
    if (!equal(root, fromBase64(receipt.root_hash))) throw new Error("the checkpoint's root is not the receipt's");
    return `${origin}, signed at ${receipt.tree_size} entries`;
  });
  await step("Leaf hash", async () => {
    const leaf = await sha256(leafPrefix, entryBytes);
    if (!equal(leaf, fromBase64(receipt.leaf_hash))) throw new Error("the entry does not hash to the receipt's leaf hash");
    return `SHA-256(0x00 ‖ entry) = ${hex(leaf).slice(0, 16)}…`;
  });
  await step("Inclusion proof", async () => {
    if (!root) throw new Error("no signed root to reach");
    const leaf = await sha256(leafPrefix, entryBytes);
    const computed = await rootFromInclusion(receipt.leaf_index, receipt.tree_size, leaf, receipt.inclusion_proof.map(fromBase64));
    if (!equal(computed, root)) throw new Error("the proof does not lead to the signed root");
    return `entry #${receipt.leaf_index} of ${receipt.tree_size}, ${receipt.inclusion_proof.length} hashes`;
  });
  await step("Entry names this job", async () => {
    entry = JSON.parse(new TextDecoder().decode(entryBytes));
    if (entry.job_id !== job.id) throw new Error(`the entry is for job ${entry.job_id}`);
    return `${entry.model?.id ?? "model"} · completed ${entry.completed_at}`;
  });
  await step("Files match the entry", async () => {
    if (!entry) throw new Error("no entry to compare with");
    const named = new Map(entry.outputs.map((output) => [output.name, output.sha256]));
    if (named.size !== job.artifacts.length) throw new Error(`the entry names ${named.size} files, the job has ${job.artifacts.length}`);
    for (const artifact of job.artifacts) {
      const expected = named.get(artifact.name);
      if (!expected) throw new Error(`${artifact.name} is not in the entry`);
      const response = await fetch(artifact.url);
      if (!response.ok) throw new Error(`${artifact.name} could not be downloaded (${response.status})`);
      const actual = hex(await sha256(new Uint8Array(await response.arrayBuffer())));
      if (actual !== expected) throw new Error(`${artifact.name} does not have the SHA-256 the entry records`);
    }
    return `${job.artifacts.length} file${job.artifacts.length === 1 ? "" : "s"} downloaded and hashed`;
  });
  return { verified: steps.every((s) => s.ok), steps, entry };
}
