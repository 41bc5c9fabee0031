// A task's page: its state and controls, the last failure, lag and throughput charts, the change
// stream, cutover readiness, the tables with reload and revalidate, the mapping rules and what they
// matched, the premigration assessment, events and a live log tail.

import { all, dms, taskMetrics } from "./api.js";
import { lineChart } from "./charts.js";
import { action, badge, bytes, fill, fillIfChanged, h, number, poll, section, seconds, table, time } from "./dom.js";
import { endpointIdentifiers, instanceIdentifiers } from "./tasks.js";

const CHARTS = [
  ["Latency", "s", ["CDCLatencySource", "CDCLatencyTarget"]],
  ["Throughput", "rows/s", ["CDCThroughputRowsTarget", "FullLoadThroughputRowsTarget"]],
];
const DAY_MINUTES = 1440;

export async function renderTask(view, identifier) {
  const tasks = await dms("DescribeReplicationTasks", { Filters: [{ Name: "replication-task-id", Values: [identifier] }] });
  if (!tasks.ReplicationTasks || !tasks.ReplicationTasks.length) {
    fill(view, h("p", {}, `No task ${identifier}. `, h("a", { href: "#/tasks" }, "See the tasks.")));
    return null;
  }
  const arn = tasks.ReplicationTasks[0].ReplicationTaskArn;
  const endpoints = await endpointIdentifiers();
  const parts = {
    head: h("div", {}), failure: h("div", {}), charts: h("div", { class: "charts" }), stream: h("div", {}), readiness: h("div", {}),
    tables: h("div", {}), mappings: h("div", {}), assessment: h("div", {}), events: h("div", {}), log: h("div", {}),
  };
  fill(view, parts.head, parts.failure,
    section("Lag and throughput", parts.charts), section("Change stream", parts.stream), section("Cutover", parts.readiness),
    section("Tables", parts.tables), section("Table mappings", parts.mappings), section("Premigration assessment", parts.assessment),
    section("Events", parts.events), section("Log", parts.log));

  const refresh = async () => {
    const [task] = (await dms("DescribeReplicationTasks", { Filters: [{ Name: "replication-task-arn", Values: [arn] }] })).ReplicationTasks;
    if (!task) { location.hash = "#/tasks"; return; }
    drawHead(parts.head, task, endpoints, refresh);
    drawFailure(parts.failure, task);
    const instances = await instanceIdentifiers();
    const metrics = (await taskMetrics([{ key: arn, arn, instance: instances[task.ReplicationInstanceArn] || "" }], CHARTS.flatMap((c) => c[2])))[arn] || {};
    fill(parts.charts, CHARTS.map(([title, unit, names]) => h("div", { class: "chart-box", "data-chart": title },
      h("h3", {}, `${title} (${unit})`), lineChart(Object.fromEntries(names.map((name) => [name, metrics[name] || []])), unit))));
    await Promise.all([drawStream(parts.stream, task), drawReadiness(parts.readiness, task, refresh), drawTables(parts.tables, task, refresh),
      drawEvents(parts.events, task)]);
  };
  const slow = async () => {
    const [task] = (await dms("DescribeReplicationTasks", { Filters: [{ Name: "replication-task-arn", Values: [arn] }] })).ReplicationTasks;
    if (task) await Promise.all([drawMappings(parts.mappings, task), drawAssessment(parts.assessment, task)]);
  };
  const stops = [poll(refresh, 5000), poll(slow, 30000), followLog(parts.log, arn)];
  return () => stops.forEach((stop) => stop());
}

function drawHead(element, task, endpoints, refresh) {
  const arn = task.ReplicationTaskArn;
  const stats = task.ReplicationTaskStats || {};
  const running = ["running", "starting"].includes(task.Status);
  const controls = [];
  if (!running && task.Status !== "stopping" && task.Status !== "creating") {
    const type = h("select", { "aria-label": "How to start" },
      (task.ReplicationTaskStartDate ? ["resume-processing", "reload-target"] : ["start-replication"]).map((value) => h("option", { value }, value)));
    controls.push(type, action("Start", async () => {
      await dms("StartReplicationTask", { ReplicationTaskArn: arn, StartReplicationTaskType: type.value });
      await refresh();
      return `Starting ${task.ReplicationTaskIdentifier} (${type.value}).`;
    }, { id: "start-task", class: "primary" }));
  }
  if (running) {
    controls.push(action("Stop", async () => {
      await dms("StopReplicationTask", { ReplicationTaskArn: arn });
      await refresh();
      return `Stopping ${task.ReplicationTaskIdentifier}.`;
    }, { id: "stop-task", "data-confirm": `Stop ${task.ReplicationTaskIdentifier}? It can resume later from where it stopped.` }));
  } else {
    controls.push(action("Delete", async () => {
      await dms("DeleteReplicationTask", { ReplicationTaskArn: arn });
      location.hash = "#/tasks";
      return `Deleted ${task.ReplicationTaskIdentifier}.`;
    }, { id: "delete-task", class: "danger", "data-confirm": `Delete ${task.ReplicationTaskIdentifier}? Its tables stay on the target.` }));
  }
  const key = JSON.stringify([task.Status, task.ReplicationTaskStats, task.RecoveryCheckpoint]);
  fillIfChanged(element, key, h("div", { class: "title" },
    h("h1", {}, task.ReplicationTaskIdentifier, " ", h("span", { id: "task-status" }, badge(task.Status))), h("div", { class: "controls" }, controls)),
  h("dl", { class: "facts" },
    fact("Migration type", task.MigrationType),
    fact("Full load", `${number(stats.FullLoadProgressPercent || 0)}% · ${number(stats.TablesLoaded || 0)} loaded, ${number(stats.TablesLoading || 0)} loading, `
      + `${number(stats.TablesQueued || 0)} queued, ${number(stats.TablesErrored || 0)} errored`),
    fact("Started", time(task.ReplicationTaskStartDate)),
    fact("Source", endpoints[task.SourceEndpointArn] || task.SourceEndpointArn), fact("Target", endpoints[task.TargetEndpointArn] || task.TargetEndpointArn),
    fact("Recovery checkpoint", task.RecoveryCheckpoint || "—")));
}

function fact(term, value) {
  return [h("dt", {}, term), h("dd", {}, value ?? "—")];
}

function drawFailure(element, task) {
  const message = task.LastFailureMessage || (task.Status === "stopped" && task.StopReason && task.StopReason !== "Stop Reason NORMAL" ? task.StopReason : null);
  fill(element, message ? h("div", { class: "failure", id: "last-failure" }, h("strong", {}, "Last failure: "), message) : null);
}

async function drawStream(element, task) {
  const stream = await dms("DescribeChangeStream", { ReplicationTaskArn: task.ReplicationTaskArn });
  if (stream.Phase === "not running") {
    fill(element, h("p", { class: "muted" }, "The task is not streaming changes now."));
    return;
  }
  fill(element, h("dl", { class: "facts", id: "stream" },
    fact("Phase", stream.Phase),
    fact("Applied position", stream.AppliedPosition || "—"),
    fact("Latency source / target", `${seconds(stream.LatencySourceSeconds)} / ${seconds(stream.LatencyTargetSeconds)}`),
    fact("Marker round trip", seconds(stream.MarkerRoundTripSeconds)),
    fact("Waiting to apply", number(stream.IncomingChanges)),
    fact("Applied", `${number(stream.ChangesApplied)} changes in ${number(stream.TransactionsApplied)} transactions (${number(stream.ChangesPerSecond, 1)}/s)`),
    fact("Retained log on the source", `${bytes(stream.RetainedLogBytes)}${stream.RetainedLogWarning ? ` — ${stream.RetainedLogWarning}` : ""}`),
    fact("Reconnects", number(stream.Reconnects)),
    stream.Source ? fact("Source server", stream.Source) : null,
    stream.SuspendedTables && stream.SuspendedTables.length ? fact("Suspended tables", stream.SuspendedTables.join("; ")) : null));
}

async function drawReadiness(element, task, refresh) {
  const cutovers = (await dms("DescribeCutovers", { ReplicationTaskArn: task.ReplicationTaskArn })).Cutovers || [];
  const last = cutovers[0];
  const lastLine = last ? h("p", {}, "Last cutover: ", badge(last.Status), ` started ${time(last.StartDate)}`,
    last.FailedStep ? ` · failed at ${last.FailedStep}` : "", (last.Reasons || []).length ? ` · ${last.Reasons.join("; ")}` : "") : null;
  if (task.MigrationType === "full-load" || task.Status !== "running") {
    fill(element, h("p", { class: "muted" }, "A cutover needs a running task that streams changes."), lastLine);
    return;
  }
  const readiness = await dms("DescribeCutoverReadiness", { ReplicationTaskArn: task.ReplicationTaskArn });
  fill(element,
    h("p", { id: "readiness" }, readiness.Ready ? badge("ready") : badge("not ready"), ` lag ${seconds(readiness.LagSeconds)}`),
    (readiness.Reasons || []).length ? h("ul", { class: "reasons" }, readiness.Reasons.map((reason) => h("li", {}, reason))) : null,
    (readiness.Notes || []).length ? h("ul", { class: "notes muted" }, readiness.Notes.map((note) => h("li", {}, note))) : null,
    lastLine,
    readiness.Ready ? action("Cut over", async () => {
      const answer = await dms("StartCutover", { ReplicationTaskArn: task.ReplicationTaskArn });
      await refresh();
      return `Cutover ${answer.Cutover.CutoverId} started; replication back to the source is ${answer.Cutover.ReverseReplicationTaskIdentifier}.`;
    }, { id: "cut-over", class: "primary", "data-confirm": `Cut ${task.ReplicationTaskIdentifier} over? Writes on the source pause for a moment, then the application moves to the target; a reverse task keeps the source in step for a rollback.` }) : null);
}

async function drawTables(element, task, refresh) {
  const tables = await all("DescribeTableStatistics", { ReplicationTaskArn: task.ReplicationTaskArn, MaxRecords: 500 }, "TableStatistics");
  const validating = tables.some((t) => t.ValidationState && t.ValidationState !== "Not enabled");
  const reload = (t, option) => action(option === "data-reload" ? "Reload" : "Revalidate", async () => {
    await dms("ReloadTables", { ReplicationTaskArn: task.ReplicationTaskArn, ReloadOption: option,
      TablesToReload: [{ SchemaName: t.SchemaName, TableName: t.TableName }] });
    await refresh();
    return `${option === "data-reload" ? "Reloading" : "Revalidating"} ${t.SchemaName}.${t.TableName}.`;
  }, { class: "small", "data-reload": `${t.SchemaName}.${t.TableName}`, "data-option": option,
    "data-confirm": option === "data-reload" ? `Reload ${t.SchemaName}.${t.TableName}? Its rows on the target are copied again.` : undefined });
  fill(element, table(["Table", "State", "Full-load rows", "Inserts", "Updates", "Deletes", "Validation", "Last update", ""],
    tables.map((t) => h("tr", { "data-table": `${t.SchemaName}.${t.TableName}` },
      h("td", {}, `${t.SchemaName}.${t.TableName}`), h("td", { class: "state" }, badge(t.TableState)),
      h("td", { class: "num rows" }, number(t.FullLoadRows)), h("td", { class: "num" }, number(t.Inserts)),
      h("td", { class: "num" }, number(t.Updates)), h("td", { class: "num" }, number(t.Deletes)),
      h("td", {}, t.ValidationState || "—", t.ValidationFailedRecords ? ` (${number(t.ValidationFailedRecords)} differ)` : ""),
      h("td", {}, time(t.LastUpdateTime)),
      h("td", { class: "controls" }, task.Status === "running" ? [reload(t, "data-reload"), validating ? reload(t, "validate-only") : null] : null)))));
}

async function drawMappings(element, task) {
  const matches = await dms("DescribeTableMappingMatches", { ReplicationTaskArn: task.ReplicationTaskArn });
  fill(element, table(["Rule", "Type", "Action", "Object locator", "Tables it matched"], (matches.Rules || []).map((rule) => h("tr", {},
    h("td", {}, rule.RuleId), h("td", {}, rule.RuleType), h("td", {}, rule.RuleAction || "—"), h("td", {}, rule.ObjectLocator),
    h("td", {}, (rule.Tables || []).length ? rule.Tables.map((t) => `${t.SchemaName}.${t.TableName}`).join(", ") : h("span", { class: "muted" }, "none"))))),
  h("details", {}, h("summary", {}, "The mapping document"), h("pre", {}, pretty(task.TableMappings))));
}

function pretty(json) {
  try { return JSON.stringify(JSON.parse(json), null, 2); } catch { return json || ""; }
}

async function drawAssessment(element, task) {
  const runs = await all("DescribeReplicationTaskAssessmentRuns",
    { Filters: [{ Name: "replication-task-arn", Values: [task.ReplicationTaskArn] }] }, "ReplicationTaskAssessmentRuns");
  const latest = runs.sort((a, b) => (b.ReplicationTaskAssessmentRunCreationDate || 0) - (a.ReplicationTaskAssessmentRunCreationDate || 0))[0];
  if (!latest) {
    fill(element, h("p", { class: "muted" }, "No assessment run yet: aws dms start-replication-task-assessment-run, or ferry assess."));
    return;
  }
  const report = latest.Status === "running" ? null : await dms("DescribeReplicationTaskAssessmentReport",
    { ReplicationTaskAssessmentRunArn: latest.ReplicationTaskAssessmentRunArn });
  fill(element, h("p", {}, `${latest.AssessmentRunName || "Run"} `, badge(latest.Status), ` ${time(latest.ReplicationTaskAssessmentRunCreationDate)}`),
    report ? table(["Check", "Status", "Objects", "Message", "Fix"], (report.Findings || []).map((finding) => h("tr", {},
      h("td", {}, finding.IndividualAssessmentName), h("td", {}, badge(finding.Status)), h("td", {}, (finding.Objects || []).join(", ")),
      h("td", {}, finding.Message || ""), h("td", {}, finding.Fix || "")))) : null);
}

async function drawEvents(element, task) {
  const events = await all("DescribeEvents", { SourceType: "replication-task", SourceIdentifier: task.ReplicationTaskIdentifier, Duration: DAY_MINUTES }, "Events");
  fill(element, table(["Time", "Categories", "Message"], events.slice().reverse().slice(0, 20).map((event) => h("tr", {},
    h("td", {}, time(event.Date)), h("td", {}, (event.EventCategories || []).join(", ")), h("td", {}, event.Message)))));
}

/** The last 200 log lines, then each new one every two seconds; level and text filters ask again. */
function followLog(element, arn) {
  const level = h("select", { "aria-label": "Lowest level" }, ["info", "notice", "warning", "error", "debug"].map((value) => h("option", { value }, value)));
  const filter = h("input", { type: "search", placeholder: "Filter by text or table", "aria-label": "Filter" });
  const lines = h("pre", { class: "log", id: "log-tail" });
  fill(element, h("div", { class: "controls" }, level, filter), lines);
  let after = null;
  const restart = () => { after = null; lines.replaceChildren(); };
  level.addEventListener("change", restart);
  filter.addEventListener("change", restart);
  return poll(async () => {
    const query = { ReplicationTaskArn: arn, MinimumLevel: level.value, Limit: 500, ...(filter.value ? { Filter: filter.value } : {}) };
    const answer = await dms("GetReplicationTaskLogEvents", after === null ? { ...query, Tail: 200 } : { ...query, AfterSequence: after });
    after = answer.LastSequence ?? after ?? 0;
    const atBottom = lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 4;
    for (const event of answer.Events || []) {
      lines.append(h("span", { class: `line ${event.Level}` }, `${new Date(event.Time * 1000).toLocaleTimeString()} ${event.Level.padEnd(7)} `
        + `${event.Component}${event.Table ? ` [${event.Table}]` : ""} ${event.Message}\n`));
    }
    while (lines.childElementCount > 1000) lines.firstElementChild.remove();
    if (atBottom) lines.scrollTop = lines.scrollHeight;
  }, 2000);
}
