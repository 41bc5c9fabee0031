// The tasks page: every task with its status, load progress and a live lag sparkline, worst lag first.

import { all, taskMetrics } from "./api.js";
import { sparkline } from "./charts.js";
import { badge, fill, h, number, poll, seconds, table } from "./dom.js";

const LAG = ["CDCLatencySource", "CDCLatencyTarget"];

/** Source plus target latency at each time both have a point: DMS's total replica lag. */
export function totalLag(series) {
  const target = new Map((series.CDCLatencyTarget || []).map(([t, v]) => [t, v]));
  return (series.CDCLatencySource || []).filter(([t]) => target.has(t)).map(([t, v]) => [t, v + target.get(t)]);
}

/** Identifiers of the replication instances by ARN, for CloudWatch's dimension. */
export async function instanceIdentifiers() {
  const instances = await all("DescribeReplicationInstances", {}, "ReplicationInstances");
  return Object.fromEntries(instances.map((i) => [i.ReplicationInstanceArn, i.ReplicationInstanceIdentifier]));
}

/** Identifiers of the endpoints by ARN. */
export async function endpointIdentifiers() {
  const endpoints = await all("DescribeEndpoints", {}, "Endpoints");
  return Object.fromEntries(endpoints.map((e) => [e.EndpointArn, `${e.EndpointIdentifier} (${e.EngineName})`]));
}

export async function renderTasks(view) {
  const body = h("div", {});
  fill(view, h("div", { class: "title" }, h("h1", {}, "Replication tasks"), h("a", { class: "button primary", href: "#/tasks/new" }, "Create task")), body);
  return poll(async () => {
    const [tasks, instances, endpoints] = await Promise.all([all("DescribeReplicationTasks", { WithoutSettings: true }, "ReplicationTasks"),
      instanceIdentifiers(), endpointIdentifiers()]);
    const metrics = await taskMetrics(tasks.map((task) => ({ key: task.ReplicationTaskArn, arn: task.ReplicationTaskArn,
      instance: instances[task.ReplicationInstanceArn] || "" })), LAG);
    const rows = tasks.map((task) => {
      const lag = totalLag(metrics[task.ReplicationTaskArn] || {});
      return { task, lag, current: lag.length ? lag.at(-1)[1] : -1 };
    }).sort((a, b) => b.current - a.current || a.task.ReplicationTaskIdentifier.localeCompare(b.task.ReplicationTaskIdentifier));
    fill(body, table(["Task", "Status", "Source → target", "Type", "Load", "Lag", "Last 15 min"], rows.map(({ task, lag, current }) => {
      const stats = task.ReplicationTaskStats || {};
      return h("tr", { "data-task": task.ReplicationTaskIdentifier },
        h("td", {}, h("a", { href: `#/tasks/${encodeURIComponent(task.ReplicationTaskIdentifier)}` }, task.ReplicationTaskIdentifier)),
        h("td", {}, badge(task.Status)),
        h("td", {}, `${endpoints[task.SourceEndpointArn] || "?"} → ${endpoints[task.TargetEndpointArn] || "?"}`),
        h("td", {}, task.MigrationType),
        h("td", {}, h("progress", { max: 100, value: stats.FullLoadProgressPercent || 0 }), ` ${number(stats.FullLoadProgressPercent || 0)}%`),
        h("td", { class: "num lag" }, current >= 0 ? seconds(current) : "—"),
        h("td", {}, sparkline(lag, "CDCLatencySource + CDCLatencyTarget")));
    }), { id: "tasks" }));
  }, 5000);
}
