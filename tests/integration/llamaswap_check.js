// Checks a generated/llama-swap.yaml as llama-swap would read it: llama-swap's own schema
// (draft-07, tests/fixtures/llama-swap/config-schema.json) with ajv, our whitelist of keys
// (its model objects let unknown keys through), every group member, matrix var and set name
// defined, and each cmd split as llama-swap splits it (comment lines dropped, a trailing
// backslash joins lines, POSIX words) into the argv the plan gives: the utilization and
// context of the role, or of its group in the .env (read with dotenv). Prints one line per
// finding and "ok" lines; exits 1 on any finding.
// usage: node llamaswap_check.js CONFIG ENV [EXPECT_ROUTING]   (EXPECT_ROUTING: groups, matrix, none)
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const Ajv = require("ajv").default;
const dotenv = require("dotenv");

const [config, envFile, expectRouting] = process.argv.slice(2);
const root = path.resolve(__dirname, "..", "..");
let failed = false;
const fail = (m) => { console.log("FAIL " + m); failed = true; };

const doc = YAML.parse(fs.readFileSync(config, "utf8"), { version: "1.2", uniqueKeys: true });
const schema = JSON.parse(fs.readFileSync(path.join(root, "tests/fixtures/llama-swap/config-schema.json"), "utf8"));
// ajv names draft-07 by its http:// id; the schema says https://. Check the schema itself
// against draft-07 under that id, then compile it without the lookup.
const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true, logger: false });
if (!ajv.validateSchema({ ...schema, $schema: "http://json-schema.org/draft-07/schema#" }))
  fail("llama-swap's schema is not valid draft-07: " + ajv.errorsText(ajv.errors));
const validate = ajv.compile(schema);
if (!validate(doc)) fail("schema: " + ajv.errorsText(validate.errors));
else console.log("ok   valid against llama-swap's config schema");

const TOP = ["healthCheckTimeout", "models", "groups", "matrix"];
const MODEL = ["description", "cmd", "proxy", "checkEndpoint", "aliases", "ttl", "env"];
const GROUP = ["swap", "exclusive", "members"];
const MATRIX = ["vars", "evict_costs", "sets"];
const only = (obj, keys, where) => {
  for (const k of Object.keys(obj || {})) if (!keys.includes(k)) fail(`${where}: key '${k}' is not one modelc writes`);
};
only(doc, TOP, "top level");
for (const [id, m] of Object.entries(doc.models || {})) only(m, MODEL, `models.${id}`);
for (const [id, g] of Object.entries(doc.groups || {})) only(g, GROUP, `groups.${id}`);
only(doc.matrix, MATRIX, "matrix");

const routing = doc.groups ? "groups" : doc.matrix ? "matrix" : "none";
if (expectRouting && routing !== expectRouting) fail(`routing is ${routing}, expected ${expectRouting}`);
if (doc.groups && doc.matrix) fail("both groups and matrix: llama-swap refuses a config with both");
const models = doc.models || {};
const seen = new Set();
for (const [id, g] of Object.entries(doc.groups || {})) {
  if (g.swap !== false) fail(`groups.${id}: swap is not false: its members would not run together`);
  for (const m of g.members) {
    if (!models[m]) fail(`groups.${id}: member '${m}' is no model`);
    if (seen.has(m)) fail(`groups.${id}: '${m}' is in two groups; llama-swap allows one`);
    seen.add(m);
  }
}
if (doc.matrix) {
  const vars = doc.matrix.vars;
  for (const [v, m] of Object.entries(vars)) if (!models[m]) fail(`matrix.vars.${v}: '${m}' is no model`);
  for (const [v, c] of Object.entries(doc.matrix.evict_costs || {}))
    if (!vars[v] || !(c >= 1)) fail(`matrix.evict_costs.${v}: not a var with a cost of at least 1`);
  for (const [s, dsl] of Object.entries(doc.matrix.sets))
    for (const ident of dsl.split(/[&|()\s]+/).filter(Boolean))
      if (!vars[ident] && !models[ident]) fail(`matrix.sets.${s}: '${ident}' is neither a var nor a model`);
}

// llama-swap's SanitizeCommand, then POSIX word splitting (a small shlex: quotes and backslashes).
function words(cmd) {
  const text = cmd.split("\n").filter((l) => !l.trim().startsWith("#"))
    .map((l) => (l.trim().endsWith("\\") ? l.trim().slice(0, -1) + " " : l)).join("\n");
  const out = [];
  let cur = null, i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { if (cur !== null) out.push(cur); cur = null; i++; continue; }
    cur = cur || "";
    if (c === "'") { const j = text.indexOf("'", i + 1); cur += text.slice(i + 1, j); i = j + 1; }
    else if (c === "\\") { cur += text[i + 1]; i += 2; }
    else if (c === '"') { i++; while (text[i] !== '"') { if (text[i] === "\\") i++; cur += text[i++]; } i++; }
    else { cur += c; i++; }
  }
  if (cur !== null) out.push(cur);
  return out;
}
const env = dotenv.parse(fs.readFileSync(envFile));
const groupOf = {};
for (const [id, g] of Object.entries(doc.groups || {})) for (const m of g.members) groupOf[m] = id;
for (const [id, m] of Object.entries(models)) {
  const argv = words(m.cmd);
  const flag = (f) => { const k = argv.indexOf(f); return k < 0 ? undefined : argv[k + 1]; };
  if (argv[1] !== "serve" || flag("--port") !== "${PORT}" || flag("--host") !== "127.0.0.1")
    fail(`models.${id}.cmd: not 'vllm serve ... --host 127.0.0.1 --port \${PORT}': ${JSON.stringify(argv)}`);
  const names = argv.slice(argv.indexOf("--served-model-name") + 1);
  const served = names.slice(0, names.findIndex((w) => w.startsWith("--")));
  for (const a of [id, ...(m.aliases || [])])
    if (!served.includes(a)) fail(`models.${id}: '${a}' is not in --served-model-name`);
  const up = id.toUpperCase();
  // common/servednames: the role's name first (what responses report), the model id that
  // switch --set exports (ROLE_MODEL_ID) among them, each name once.
  if (served[0] !== id) fail(`models.${id}: --served-model-name starts with '${served[0]}', not the role`);
  if (!served.includes(env[up + "_MODEL_ID"])) fail(`models.${id}: ${up}_MODEL_ID '${env[up + "_MODEL_ID"]}' of the .env is not in --served-model-name ${served}`);
  if (new Set(served).size !== served.length) fail(`models.${id}: --served-model-name repeats a name: ${served}`);
  const g = groupOf[id] && "GROUP_" + groupOf[id].toUpperCase().replace(/\+/g, "_") + "_" + up;
  const util = g ? env[g + "_GPU_MEMORY_UTILIZATION"] : env[up + "_GPU_MEMORY_UTILIZATION"];
  const len = g ? env[g + "_MAX_MODEL_LEN"] : env[up + "_MAX_MODEL_LEN"];
  if (!doc.matrix && flag("--gpu-memory-utilization") !== util)
    fail(`models.${id}.cmd: --gpu-memory-utilization ${flag("--gpu-memory-utilization")}, the .env says ${util}`);
  if (!doc.matrix && (len || "") !== (flag("--max-model-len") || ""))
    fail(`models.${id}.cmd: --max-model-len ${flag("--max-model-len")}, the .env says ${len}`);
  if (m.checkEndpoint !== "/health") fail(`models.${id}: checkEndpoint is not /health`);
}
if (!failed) console.log(`ok   ${Object.keys(models).length} models, routing ${routing}, commands as the plan gives them`);
process.exit(failed ? 1 : 0);
