// Cross-check modelc's readers and schema validator against npm `yaml` (YAML 1.2 core), the
// JSON parser and `ajv` (draft 2020-12): the catalog corpus in tests/schema/{accept,reject}/ and
// models.yaml, the lock corpus in tests/schema/lock/{accept,reject}/ and models.lock, and the
// repository ids of tests/schema/repo-ids.txt.
// Usage: node tests/schema/ajv_check.js MODELC   (run from the repository root)
// Prints one line per document and fails on any disagreement:
//  - both schemas must compile in ajv's strict mode;
//  - accept/ documents must be valid for both, reject/ documents invalid for both;
//  - where both parsers read a document, they must read the same data (this is where a
//    document that libyaml accepts but npm yaml reads differently is reported);
//  - every reject/X.yaml has X.err (every lock/reject/X.lock has X.err) with modelc's exact
//    diagnostics;
//  - every validation keyword a schema uses is exercised by some rejected document;
//  - scalars/ holds documents that are no catalogs: both parsers must read them, identically;
//  - diverge/ holds the known documents npm yaml accepts and modelc deliberately rejects
//    (YAML 1.1 line breaks); each must still diverge, or it belongs in reject/;
//  - each id of repo-ids.txt gets the verdict written there from both schemas' $defs/repo
//    (tests/unit/test_repoid.c holds common/repoid.c and modelc's validator to the same file).
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const Ajv2020 = require("ajv/dist/2020");
const YAML = require("yaml");

const modelc = process.argv[2];
if (!modelc) {
  console.error("usage: node tests/schema/ajv_check.js MODELC");
  process.exit(2);
}
const root = process.cwd();
const schemaDir = path.join(root, "schemas");
const schema = JSON.parse(fs.readFileSync(path.join(schemaDir, "models.schema.json"), "utf8"));

let failures = 0;
function fail(msg) {
  failures++;
  console.log("FAIL " + msg);
}

// ajv's strict mode, except strictRequired, which flags the standard idiom of "required"
// inside anyOf/oneOf branches (["repo"] or ["local"]) whose properties the parent defines.
const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
let validate;
try {
  validate = ajv.compile(schema);
} catch (e) {
  console.log("FAIL schema does not compile in ajv strict mode: " + e.message);
  process.exit(1);
}
console.log("ok   schema compiles in ajv (draft 2020-12, strict)");

// Validation keywords a schema uses (annotations excluded), to check corpus coverage.
// "items" and the property maps only hold subschemas: their violations carry inner keywords.
const annotations = new Set(["$schema", "$id", "$comment", "$defs", "$ref", "title",
  "description", "default", "examples", "deprecated", "properties", "patternProperties",
  "items"]);
function usedKeywords(schema) {
  const used = new Set();
  (function walk(s) {
    if (Array.isArray(s)) return s.forEach(walk);
    if (!s || typeof s !== "object") return;
    for (const [k, v] of Object.entries(s)) {
      if (!annotations.has(k)) used.add(k);
      if (["properties", "patternProperties", "$defs"].includes(k)) Object.values(v).forEach(walk);
      else if (["items", "additionalProperties", "propertyNames", "not"].includes(k)) walk(v);
      else if (["anyOf", "oneOf", "allOf"].includes(k)) v.forEach(walk);
    }
  })(schema);
  return used;
}
const used = usedKeywords(schema);

// What npm yaml reads, with modelc's restrictions: one document, no anchors, aliases, tags,
// non-string keys, duplicate keys or NUL characters in keys and values. Returns {ok, data, why}.
function npmRead(text) {
  const docs = YAML.parseAllDocuments(text, { version: "1.2", schema: "core", uniqueKeys: true,
    strict: true });
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length > 1) return { ok: false, why: "more than one document" };
  if (list.length === 0) return { ok: true, data: null };
  const doc = list[0];
  if (doc.errors.length) return { ok: false, why: doc.errors[0].code };
  if (doc.directives.yaml.explicit && doc.directives.yaml.version !== "1.2")
    return { ok: false, why: "YAML " + doc.directives.yaml.version };
  let why = null;
  YAML.visit(doc, {
    Alias() { why = why || "alias"; },
    Node(_, n) {
      if (n.anchor) why = why || "anchor";
      if (n.tag) why = why || "tag";
      if (YAML.isScalar(n) && typeof n.value === "string" && n.value.includes("\0"))
        why = why || "NUL in a scalar";
    },
    Pair(_, p) {
      if (!YAML.isScalar(p.key) || typeof p.key.value !== "string") why = why || "non-string key";
      else if (p.key.value.includes("\0")) why = why || "NUL in a key";
    },
  });
  if (why !== null) return { ok: false, why };
  try {
    return { ok: true, data: doc.toJS() };
  } catch (e) {
    return { ok: false, why: e.message };
  }
}

function normalize(v) {
  if (typeof v === "number") {
    if (Number.isNaN(v)) return ".nan";
    if (v === Infinity) return ".inf";
    if (v === -Infinity) return "-.inf";
    return v;
  }
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = normalize(v[k]);
    return o;
  }
  return v;
}

function runModelc(dir, file) {
  let out;
  let code = 0;
  try {
    out = execFileSync(modelc, ["check", "--schema-only", "--json", file], {
      cwd: dir, env: { ...process.env, MODELC_SCHEMA_DIR: schemaDir, NO_COLOR: "1" },
      encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    out = e.stdout;
    code = e.status;
  }
  return { code, result: JSON.parse(out) };
}

const triggered = new Set();
function check(dir, file, expect) {
  const name = path.relative(root, path.join(dir, file));
  // Invalid UTF-8 must not be papered over with U+FFFD: libyaml refuses it, so must we.
  let text = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(fs.readFileSync(path.join(dir, file)));
  } catch (e) {
    text = null;
  }
  const npm = text === null ? { ok: false, why: "invalid UTF-8" } : npmRead(text);
  let ajvValid = false;
  if (npm.ok) {
    ajvValid = validate(npm.data);
    if (!ajvValid) for (const e of validate.errors) triggered.add(e.keyword);
  }
  const npmVerdict = npm.ok && ajvValid;
  const { code, result } = runModelc(dir, file);
  const mVerdict = result.valid;
  let bad = false;
  if (code !== (mVerdict ? 0 : 1)) { fail(`${name}: modelc exit ${code} with valid=${mVerdict}`); bad = true; }
  if (npm.ok && result.document !== null &&
      JSON.stringify(normalize(npm.data)) !== JSON.stringify(normalize(result.document))) {
    fail(`${name}: npm yaml and modelc read different data:\n  yaml:   ${JSON.stringify(normalize(npm.data))}\n  modelc: ${JSON.stringify(normalize(result.document))}`);
    bad = true;
  }
  if (!npm.ok && result.document !== null && mVerdict) {
    fail(`${name}: libyaml/modelc accept it, npm yaml does not (${npm.why})`);
    bad = true;
  }
  if (expect === "diverge") {
    if (mVerdict) { fail(`${name}: modelc accepts a known divergence`); bad = true; }
    if (!npmVerdict) { fail(`${name}: npm yaml + ajv reject it too; move it to reject/`); bad = true; }
  } else if (npmVerdict !== mVerdict) {
    fail(`${name}: ajv says ${npmVerdict ? "valid" : "invalid"}${npm.ok ? "" : " (yaml: " + npm.why + ")"}, modelc says ${mVerdict ? "valid" : "invalid"}` +
      (result.diagnostics.length ? "\n  " + result.diagnostics.join("\n  ") : "") +
      (npm.ok && !ajvValid ? "\n  ajv: " + ajv.errorsText(validate.errors) : ""));
    bad = true;
  }
  if (expect !== "diverge" && mVerdict !== (expect === "accept")) {
    fail(`${name}: expected ${expect}, modelc says ${mVerdict ? "valid" : "invalid"}\n  ` + result.diagnostics.join("\n  "));
    bad = true;
  }
  if (expect !== "accept") {
    const errFile = path.join(dir, file.replace(/\.yaml$/, ".err"));
    const got = result.diagnostics.join("\n") + "\n";
    if (!fs.existsSync(errFile)) {
      fail(`${name}: no ${path.basename(errFile)}; modelc said:\n${got}`);
      bad = true;
    } else if (fs.readFileSync(errFile, "utf8") !== got) {
      fail(`${name}: diagnostics differ from ${path.basename(errFile)}:\n  expected: ${fs.readFileSync(errFile, "utf8").trimEnd().split("\n").join("\n            ")}\n  got:      ${got.trimEnd().split("\n").join("\n            ")}`);
      bad = true;
    }
  }
  if (!bad && expect === "diverge")
    console.log(`ok   ${name}: known divergence: npm yaml + ajv accept it, modelc rejects it`);
  else if (!bad)
    console.log(`ok   ${name}: ${expect}ed by both`);
}

// Data only: the two YAML readers must agree on every value.
{
  const dir = path.join(root, "tests", "schema", "scalars");
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
    const name = path.relative(root, path.join(dir, f));
    const npm = npmRead(fs.readFileSync(path.join(dir, f), "utf8"));
    const { result } = runModelc(dir, f);
    if (!npm.ok || result.document === null) {
      fail(`${name}: not read by both (npm yaml: ${npm.ok ? "ok" : npm.why}; modelc: ${result.diagnostics.join("; ")})`);
    } else if (JSON.stringify(normalize(npm.data)) !== JSON.stringify(normalize(result.document))) {
      fail(`${name}: npm yaml and modelc read different data:\n  yaml:   ${JSON.stringify(normalize(npm.data))}\n  modelc: ${JSON.stringify(normalize(result.document))}`);
    } else {
      console.log(`ok   ${name}: read identically`);
    }
  }
}

for (const expect of ["accept", "reject", "diverge"]) {
  const dir = path.join(root, "tests", "schema", expect);
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) check(dir, f, expect);
}
check(root, "models.yaml", "accept");

for (const k of [...used].sort()) {
  if (!triggered.has(k)) fail(`keyword '${k}' is used by the schema but no reject/ document violates it`);
}

// ---- models.lock ----

const lockSchema = JSON.parse(fs.readFileSync(path.join(schemaDir, "models.lock.schema.json"), "utf8"));
// Union types ("type": ["string", "null"]) are how the lock says "or unknown"; ajv's strict
// mode asks for them to be allowed explicitly.
const lockAjv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
let validateLock;
try {
  validateLock = lockAjv.compile(lockSchema);
} catch (e) {
  console.log("FAIL lock schema does not compile in ajv strict mode: " + e.message);
  process.exit(1);
}
console.log("ok   lock schema compiles in ajv (draft 2020-12, strict)");

// What modelc's JSON reader (jansson, duplicate keys rejected) refuses beyond JSON.parse: a
// top level that is no object or array, duplicate keys, \u0000, lone surrogates, integers
// outside int64, numbers that overflow, nesting deeper than 2048. Returns {ok, data, why}.
function jsonRead(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, why: "syntax: " + e.message };
  }
  if (data === null || typeof data !== "object") return { ok: false, why: "top level is no object or array" };
  let i = 0, depth = 0, why = null;
  const note = (w) => { why = why || w; };
  const blank = () => { while (i < text.length && " \t\r\n".includes(text[i])) i++; };
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  function string() {
    const start = i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    const s = JSON.parse(text.slice(start, ++i));
    if (s.includes("\0")) note("NUL in a string");
    if (lone.test(s)) note("lone surrogate");
    return s;
  }
  (function value() {
    blank();
    const c = text[i];
    if (c === "{" || c === "[") {
      if (++depth > 2048) note("nesting deeper than 2048");
      const keys = new Set();
      for (i++, blank(); text[i] !== (c === "{" ? "}" : "]"); blank()) {
        if (c === "{") {
          const k = string();
          if (keys.has(k)) note("duplicate key");
          keys.add(k);
          blank();
          i++;
        }
        value();
        blank();
        if (text[i] === ",") i++;
      }
      i++;
      depth--;
    } else if (c === '"') {
      string();
    } else {
      const tok = /^[-+0-9.eEtruefalsn]+/.exec(text.slice(i, i + 1000))[0];
      i += tok.length;
      if (/^-?[0-9]+$/.test(tok)) {
        const n = BigInt(tok);
        if (n > 9223372036854775807n || n < -9223372036854775808n) note("integer outside int64");
      } else if (/[0-9]/.test(tok) && !Number.isFinite(Number(tok))) {
        note("number overflows");
      }
    }
  })();
  return why ? { ok: false, why } : { ok: true, data };
}

function runModelcLock(dir, file) {
  let out;
  let code = 0;
  try {
    out = execFileSync(modelc, ["check", "--schema-only", "--json", "--lock", file], {
      cwd: dir, env: { ...process.env, MODELC_SCHEMA_DIR: schemaDir, NO_COLOR: "1" },
      encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    out = e.stdout;
    code = e.status;
  }
  return { code, result: JSON.parse(out) };
}

const lockTriggered = new Set();
function checkLock(dir, file, expect) {
  const name = path.relative(root, path.join(dir, file));
  let text = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(fs.readFileSync(path.join(dir, file)));
  } catch (e) {
    text = null;
  }
  const js = text === null ? { ok: false, why: "invalid UTF-8" } : jsonRead(text);
  let ajvValid = false;
  if (js.ok) {
    ajvValid = validateLock(js.data);
    if (!ajvValid) for (const e of validateLock.errors) lockTriggered.add(e.keyword);
  }
  const jsVerdict = js.ok && ajvValid;
  const { code, result } = runModelcLock(dir, file);
  const mVerdict = result.valid;
  let bad = false;
  if (code !== (mVerdict ? 0 : 1)) { fail(`${name}: modelc exit ${code} with valid=${mVerdict}`); bad = true; }
  if (js.ok !== (result.document !== null)) {
    fail(`${name}: JSON.parse (with jansson's limits) ${js.ok ? "reads" : "refuses (" + js.why + ")"} it, modelc ${result.document !== null ? "reads" : "refuses"} it` +
      (result.diagnostics.length ? "\n  " + result.diagnostics.join("\n  ") : ""));
    bad = true;
  } else if (js.ok && JSON.stringify(normalize(js.data)) !== JSON.stringify(normalize(result.document))) {
    fail(`${name}: JSON.parse and modelc read different data:\n  JSON:   ${JSON.stringify(normalize(js.data))}\n  modelc: ${JSON.stringify(normalize(result.document))}`);
    bad = true;
  }
  if (jsVerdict !== mVerdict) {
    fail(`${name}: ajv says ${jsVerdict ? "valid" : "invalid"}${js.ok ? "" : " (JSON: " + js.why + ")"}, modelc says ${mVerdict ? "valid" : "invalid"}` +
      (result.diagnostics.length ? "\n  " + result.diagnostics.join("\n  ") : "") +
      (js.ok && !ajvValid ? "\n  ajv: " + lockAjv.errorsText(validateLock.errors) : ""));
    bad = true;
  }
  if (mVerdict !== (expect === "accept")) {
    fail(`${name}: expected ${expect}, modelc says ${mVerdict ? "valid" : "invalid"}\n  ` + result.diagnostics.join("\n  "));
    bad = true;
  }
  if (expect === "reject") {
    const errFile = path.join(dir, file.replace(/\.lock$/, ".err"));
    const got = result.diagnostics.join("\n") + "\n";
    if (!fs.existsSync(errFile)) {
      fail(`${name}: no ${path.basename(errFile)}; modelc said:\n${got}`);
      bad = true;
    } else if (fs.readFileSync(errFile, "utf8") !== got) {
      fail(`${name}: diagnostics differ from ${path.basename(errFile)}:\n  expected: ${fs.readFileSync(errFile, "utf8").trimEnd().split("\n").join("\n            ")}\n  got:      ${got.trimEnd().split("\n").join("\n            ")}`);
      bad = true;
    }
  }
  if (!bad) console.log(`ok   ${name}: ${expect}ed by both`);
}

for (const expect of ["accept", "reject"]) {
  const dir = path.join(root, "tests", "schema", "lock", expect);
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".lock")).sort()) checkLock(dir, f, expect);
}
checkLock(root, "models.lock", "accept");
for (const k of [...usedKeywords(lockSchema)].sort()) {
  if (!lockTriggered.has(k)) fail(`keyword '${k}' is used by the lock schema but no lock/reject/ document violates it`);
}

// ---- repository ids: the same verdict from both schemas' $defs/repo ----

const repoValidators = [schema, lockSchema].map((s) =>
  new Ajv2020({ strict: true }).compile({ $schema: s.$schema, $defs: s.$defs, $ref: "#/$defs/repo" }));
let ids = 0;
for (const line of fs.readFileSync(path.join(root, "tests", "schema", "repo-ids.txt"), "utf8").split("\n")) {
  const m = /^(valid|invalid)\s+("(?:[^"\\]|\\.)*")/.exec(line);
  if (!m) continue;
  const id = JSON.parse(m[2]);
  ids++;
  repoValidators.forEach((v, k) => {
    if (v(id) !== (m[1] === "valid"))
      fail(`repo-ids.txt: ${["models.schema.json", "models.lock.schema.json"][k]} says ${v(id) ? "valid" : "invalid"} for ${m[2]}, the file says ${m[1]}`);
  });
}
console.log(`ok   tests/schema/repo-ids.txt: ${ids} ids through both schemas`);

console.log(`schema agreement: ${failures} failure${failures === 1 ? "" : "s"}`);
process.exit(failures ? 1 : 0);
