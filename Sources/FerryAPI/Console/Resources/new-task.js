// The create-task page: endpoints, instance, migration type, table mappings and settings, then the
// task is created and, when asked, started as soon as it is ready.

import { all, dms } from "./api.js";
import { fill, h, onSubmit } from "./dom.js";

const ALL_TABLES = JSON.stringify({ rules: [{ "rule-type": "selection", "rule-id": "1", "rule-name": "all",
  "object-locator": { "schema-name": "%", "table-name": "%" }, "rule-action": "include" }] }, null, 2);

export async function renderNewTask(view) {
  const [endpoints, instances] = await Promise.all([all("DescribeEndpoints", {}, "Endpoints"), all("DescribeReplicationInstances", {}, "ReplicationInstances")]);
  const choose = (type) => h("select", { required: true }, endpoints.filter((e) => e.EndpointType === type)
    .map((e) => h("option", { value: e.EndpointArn }, `${e.EndpointIdentifier} (${e.EngineName})`)));
  const inputs = {
    identifier: h("input", { required: true, spellcheck: "false", id: "task-identifier" }),
    source: choose("SOURCE"),
    target: choose("TARGET"),
    instance: h("select", { required: true }, instances.map((i) => h("option", { value: i.ReplicationInstanceArn }, i.ReplicationInstanceIdentifier))),
    type: h("select", {}, ["full-load-and-cdc", "full-load", "cdc"].map((value) => h("option", { value }, value))),
    mappings: h("textarea", { rows: 10, spellcheck: "false" }),
    settings: h("textarea", { rows: 4, spellcheck: "false", placeholder: "{} — Ferry's safe defaults (docs/settings.md)" }),
    start: h("input", { type: "checkbox", checked: true }),
  };
  inputs.mappings.value = ALL_TABLES;
  const form = h("form", { class: "card" },
    h("label", {}, "Identifier", inputs.identifier),
    h("label", {}, "Source endpoint", inputs.source), h("label", {}, "Target endpoint", inputs.target),
    h("label", {}, "Replication instance", inputs.instance), h("label", {}, "Migration type", inputs.type),
    h("label", {}, "Table mappings", inputs.mappings), h("label", {}, "Task settings (JSON, optional)", inputs.settings),
    h("label", { class: "inline" }, inputs.start, " Start it when it is ready"),
    h("button", { type: "submit", class: "primary" }, "Create task"));
  onSubmit(form, "Create task", async () => {
    const body = { ReplicationTaskIdentifier: inputs.identifier.value.trim(), SourceEndpointArn: inputs.source.value,
      TargetEndpointArn: inputs.target.value, ReplicationInstanceArn: inputs.instance.value, MigrationType: inputs.type.value,
      TableMappings: inputs.mappings.value };
    if (inputs.settings.value.trim()) body.ReplicationTaskSettings = inputs.settings.value;
    const task = (await dms("CreateReplicationTask", body)).ReplicationTask;
    if (inputs.start.checked) await startWhenReady(task.ReplicationTaskArn);
    location.hash = `#/tasks/${encodeURIComponent(task.ReplicationTaskIdentifier)}`;
    return `Created ${task.ReplicationTaskIdentifier}${inputs.start.checked ? " and started it" : ""}.`;
  });
  const missing = !endpoints.length || !instances.length;
  fill(view, h("h1", {}, "Create a replication task"),
    missing ? h("p", { class: "muted" }, "A task needs a source and a target endpoint and an instance: ",
      h("a", { href: "#/endpoints" }, "endpoints"), ", ", h("a", { href: "#/instances" }, "instances"), ".") : null,
    form);
  return null;
}

async function startWhenReady(arn) {
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const [task] = (await dms("DescribeReplicationTasks", { Filters: [{ Name: "replication-task-arn", Values: [arn] }], WithoutSettings: true })).ReplicationTasks;
    if (task.Status === "ready") {
      await dms("StartReplicationTask", { ReplicationTaskArn: arn, StartReplicationTaskType: "start-replication" });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error("the task was not ready after a minute; start it from its page");
}
