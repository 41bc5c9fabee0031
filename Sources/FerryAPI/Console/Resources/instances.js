// The replication instances page: the instances tasks run on, the nodes (ferry serve processes) with
// their figures, and a form to create an instance.

import { all, dms } from "./api.js";
import { action, badge, bytes, fill, h, number, onSubmit, poll, section, seconds, table, time } from "./dom.js";

export async function renderInstances(view) {
  const instances = h("div", {});
  const nodes = h("div", {});
  const identifier = h("input", { required: true, spellcheck: "false" });
  const form = h("form", { class: "grid-form" },
    h("label", {}, "Identifier", identifier),
    h("div", {}, h("button", { type: "submit", class: "primary" }, "Create instance")));
  fill(view, h("h1", {}, "Replication instances"), section("Instances", instances), section("Nodes", nodes), section("Create an instance", form));
  const refresh = async () => {
    const [list, tasks, answer] = await Promise.all([all("DescribeReplicationInstances", {}, "ReplicationInstances"),
      all("DescribeReplicationTasks", { WithoutSettings: true }, "ReplicationTasks"), dms("DescribeNodes", {})]);
    fill(instances, table(["Instance", "Status", "Class", "Tasks", "Created", ""], list.map((instance) => {
      const count = tasks.filter((task) => task.ReplicationInstanceArn === instance.ReplicationInstanceArn).length;
      return h("tr", { "data-instance": instance.ReplicationInstanceIdentifier },
        h("td", {}, instance.ReplicationInstanceIdentifier), h("td", {}, badge(instance.ReplicationInstanceStatus)),
        h("td", {}, instance.ReplicationInstanceClass || "—"), h("td", { class: "num" }, number(count)),
        h("td", {}, time(instance.InstanceCreateTime)),
        h("td", {}, count ? null : action("Delete", async () => {
          await dms("DeleteReplicationInstance", { ReplicationInstanceArn: instance.ReplicationInstanceArn });
          await refresh();
          return `Deleting ${instance.ReplicationInstanceIdentifier}.`;
        }, { class: "small danger", "data-confirm": `Delete instance ${instance.ReplicationInstanceIdentifier}?` })));
    })));
    const lease = (node) => node.Draining ? "draining" : node.LeaseSecondsLeft > 0 ? "available" : "failed";
    fill(nodes, table(["Node", "Lease", "Up since", "Running tasks", "CPU time", "Memory", "Free in the data folder"], (answer.Nodes || []).map((node) =>
      h("tr", { "data-node": node.NodeName }, h("td", {}, node.NodeName), h("td", {}, badge(lease(node))), h("td", {}, time(node.StartTime)),
        h("td", { class: "num" }, number(node.RunningTasks)), h("td", {}, seconds(node.CpuSeconds)),
        h("td", {}, bytes(node.ResidentMemoryBytes)), h("td", {}, bytes(node.DataDirectoryFreeBytes))))));
  };
  onSubmit(form, "Create instance", async () => {
    const answer = await dms("CreateReplicationInstance", { ReplicationInstanceIdentifier: identifier.value.trim(), ReplicationInstanceClass: "dms.t3.medium" });
    form.reset();
    await refresh();
    return `Created instance ${answer.ReplicationInstance.ReplicationInstanceIdentifier}.`;
  });
  return poll(refresh, 5000);
}
