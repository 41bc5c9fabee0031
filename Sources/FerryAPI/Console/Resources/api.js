// The console's calls: the same DMS and CloudWatch operations the signed API runs, sent with the
// session cookie and the session's CSRF token (docs/console.md).

let session = null;

/** An operation's refusal, with DMS's error type and message. */
export class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Ferry-CSRF": session ? session.csrfToken : "" },
    body: JSON.stringify(body || {}),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) {
    if (response.status === 401) signedOut();
    throw new ApiError(data.__type || "Error", data.message || response.statusText, response.status);
  }
  return data;
}

/**
 * Runs a DMS operation (or one of Ferry's, docs/console.md) and returns its answer. With
 * `{ notFoundIsEmpty: true }`, a Describe whose filter matches nothing answers `{}` instead of DMS's
 * ResourceNotFoundFault.
 */
export function dms(operation, body, { notFoundIsEmpty = false } = {}) {
  return post(`/console/api/dms/${operation}${notFoundIsEmpty ? "?notFound=empty" : ""}`, body);
}

/** Runs a CloudWatch operation over the metrics' history. */
export function monitoring(operation, body) {
  return post(`/console/api/monitoring/${operation}`, body);
}

/** The signed-in session, or null. */
export async function currentSession() {
  const response = await fetch("/console/api/session", { credentials: "same-origin" });
  const data = await response.json();
  session = data.signedIn ? data : null;
  return session;
}

export async function signIn(accessKeyId, secretAccessKey, region) {
  session = null;
  session = await post("/console/api/sign-in", { accessKeyId, secretAccessKey, region });
  return session;
}

export async function signOut() {
  await post("/console/api/sign-out", {});
  session = null;
}

const signedOutListeners = [];
/** Called when the server says the session has ended. */
export function onSignedOut(listener) {
  signedOutListeners.push(listener);
}
function signedOut() {
  session = null;
  signedOutListeners.forEach((listener) => listener());
}

/** Every item of a paged Describe operation (Marker / MaxRecords); none when its filter matches nothing. */
export async function all(operation, body, key) {
  let items = [];
  let marker;
  do {
    const page = await dms(operation, { ...body, ...(marker ? { Marker: marker } : {}) }, { notFoundIsEmpty: true });
    items = items.concat(page[key] || []);
    marker = page.Marker;
  } while (marker);
  return items;
}

/** The task's resource id, the last part of its ARN: CloudWatch's ReplicationTaskIdentifier. */
export function resourceId(arn) {
  return arn.split(":").pop();
}

/**
 * The last `minutes` of DMS metrics for tasks, at 10-second resolution. `tasks` are
 * `{ key, instance, arn }`; the answer maps `key` to `{ Metric: [[time, value], …] }`, oldest first.
 */
export async function taskMetrics(tasks, metrics, minutes = 15) {
  if (tasks.length === 0) return {};
  const queries = [];
  tasks.forEach((task, t) => metrics.forEach((metric, m) => queries.push({
    Id: `q${t}_${m}`,
    MetricStat: {
      Metric: { Namespace: "AWS/DMS", MetricName: metric, Dimensions: [
        { Name: "ReplicationInstanceIdentifier", Value: task.instance },
        { Name: "ReplicationTaskIdentifier", Value: resourceId(task.arn) },
      ] },
      Period: 10, Stat: "Average",
    },
  })));
  const end = Date.now() / 1000;
  const answer = await monitoring("GetMetricData", {
    MetricDataQueries: queries, StartTime: end - minutes * 60, EndTime: end, ScanBy: "TimestampAscending",
  });
  const found = {};
  for (const result of answer.MetricDataResults || []) {
    const [t, m] = result.Id.slice(1).split("_").map(Number);
    const key = tasks[t].key;
    found[key] = found[key] || {};
    found[key][metrics[m]] = (result.Timestamps || []).map((time, i) => [time, result.Values[i]]);
  }
  return found;
}
