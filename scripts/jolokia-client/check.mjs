// Drives Conflux's Jolokia monitoring port with the real jolokia.js client (npm "jolokia.js"),
// in both the GET and the POST form, and checks the answers.
//
//   node scripts/jolokia-client/check.mjs http://localhost:10009/jolokia API_NAME MIN_REQUESTS [user pass]
//
// Exits 0 when every check passes, 1 otherwise; prints one line per check.
import Jolokia from "jolokia.js";

// jolokia.js sets Basic auth through `window.btoa` (a browser global); Node has `btoa` globally.
if (typeof globalThis.window === "undefined") globalThis.window = globalThis;

const [url, apiName, minRequests, username, password] = process.argv.slice(2);
if (!url || !apiName) {
  console.error("usage: check.mjs URL API_NAME MIN_REQUESTS [USER PASSWORD]");
  process.exit(2);
}
let failed = 0;
function check(name, ok, detail) {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : ": " + JSON.stringify(detail)}`);
  if (!ok) failed++;
}

for (const method of ["get", "post"]) {
  const jolokia = new Jolokia({ url, method, username, password });
  const version = await jolokia.request({ type: "version" });
  check(`${method} version`, version.status === 200 && typeof version.value.protocol === "string", version);

  const state = await jolokia.request({
    type: "read",
    mbean: "org.apache.synapse:Type=ServerManager,Name=ServerManager",
    attribute: "ServerState",
  });
  check(`${method} read ServerState`, state.status === 200 && state.value === "STARTED", state);

  const found = await jolokia.request({ type: "search", mbean: "org.apache.synapse:Type=API,*" });
  const apiMBean = `org.apache.synapse:Name=${apiName},Type=API`;
  check(`${method} search APIs`, found.status === 200 && found.value.includes(apiMBean), found);

  const requests = await jolokia.request({ type: "read", mbean: apiMBean, attribute: "Requests" });
  check(
    `${method} read ${apiName} Requests`,
    requests.status === 200 && requests.value >= Number(minRequests),
    requests,
  );

  const listed = await jolokia.request({ type: "list", path: "org.apache.synapse" });
  check(
    `${method} list org.apache.synapse`,
    listed.status === 200 && listed.value[`Name=${apiName},Type=API`] !== undefined,
    listed,
  );

  const exec = await jolokia.request({
    type: "exec",
    mbean: "org.wso2.conflux:type=Server",
    operation: "faultyArtifacts",
  });
  check(`${method} exec faultyArtifacts`, exec.status === 200 && Array.isArray(exec.value), exec);

  const missing = await jolokia.request({ type: "read", mbean: "java.lang:type=Memory" });
  check(`${method} unknown MBean is 404`, missing.status === 404, missing);
}

// Bulk requests go as one POST.
const bulk = await new Jolokia({ url, username, password }).request([
  { type: "version" },
  { type: "read", mbean: "org.wso2.conflux:type=Server", attribute: "Uptime" },
]);
check("bulk", Array.isArray(bulk) && bulk.length === 2 && bulk.every((r) => r.status === 200), bulk);

process.exit(failed === 0 ? 0 : 1);
