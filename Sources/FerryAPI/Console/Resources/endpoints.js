// The endpoints page: each endpoint with its last connection test, a button to test it again from a
// replication instance, and a form to create one (the password is sent once and never shown again).

import { all, dms } from "./api.js";
import { action, badge, fill, h, onSubmit, poll, section, table } from "./dom.js";

export async function renderEndpoints(view) {
  const list = h("div", {});
  const form = h("div", {});
  fill(view, h("h1", {}, "Endpoints"), section("Endpoints", list), section("Create an endpoint", form));
  drawForm(form, () => refresh());
  const refresh = async () => {
    const [endpoints, connections, instances] = await Promise.all([
      all("DescribeEndpoints", {}, "Endpoints"), all("DescribeConnections", {}, "Connections"),
      all("DescribeReplicationInstances", {}, "ReplicationInstances")]);
    const instance = h("select", { id: "test-instance", "aria-label": "Test from instance" },
      instances.map((i) => h("option", { value: i.ReplicationInstanceArn }, i.ReplicationInstanceIdentifier)));
    fill(list, instances.length ? h("p", {}, "Test connections from ", instance) : h("p", { class: "muted" }, "Create a replication instance to test connections."),
      table(["Endpoint", "Type", "Engine", "Server", "Database", "Connection", ""], endpoints.map((endpoint) => {
        const connection = connections.find((c) => c.EndpointArn === endpoint.EndpointArn);
        return h("tr", { "data-endpoint": endpoint.EndpointIdentifier },
          h("td", {}, endpoint.EndpointIdentifier), h("td", {}, endpoint.EndpointType), h("td", {}, endpoint.EngineName),
          h("td", {}, endpoint.ServerName ? `${endpoint.ServerName}:${endpoint.Port || ""}` : "—"), h("td", {}, endpoint.DatabaseName || "—"),
          h("td", { class: "connection" }, connection ? [badge(connection.Status), connection.LastFailureMessage ? ` ${connection.LastFailureMessage}` : ""] : "not tested"),
          h("td", { class: "controls" },
            instances.length ? action("Test connection", async () => {
              await dms("TestConnection", { ReplicationInstanceArn: instance.value, EndpointArn: endpoint.EndpointArn });
              await refresh();
              return `Testing ${endpoint.EndpointIdentifier}.`;
            }, { class: "small" }) : null,
            action("Delete", async () => {
              await dms("DeleteEndpoint", { EndpointArn: endpoint.EndpointArn });
              await refresh();
              return `Deleted ${endpoint.EndpointIdentifier}.`;
            }, { class: "small danger", "data-confirm": `Delete endpoint ${endpoint.EndpointIdentifier}?` })));
      })));
  };
  return poll(refresh, 3000);
}

async function drawForm(element, created) {
  const types = (await all("DescribeEndpointTypes", {}, "SupportedEndpointTypes"));
  const engines = [...new Set(types.map((t) => t.EngineName))];
  const field = (label, input) => h("label", {}, label, input);
  const inputs = {
    EndpointIdentifier: h("input", { required: true, spellcheck: "false" }),
    EndpointType: h("select", {}, ["source", "target"].map((value) => h("option", { value }, value))),
    EngineName: h("select", {}, engines.map((value) => h("option", { value }, value))),
    ServerName: h("input", { spellcheck: "false" }),
    Port: h("input", { type: "number", min: 1, max: 65535 }),
    DatabaseName: h("input", { spellcheck: "false" }),
    Username: h("input", { spellcheck: "false", autocomplete: "off" }),
    Password: h("input", { type: "password", autocomplete: "new-password" }),
  };
  const form = h("form", { class: "grid-form" },
    field("Identifier", inputs.EndpointIdentifier), field("Type", inputs.EndpointType), field("Engine", inputs.EngineName),
    field("Server", inputs.ServerName), field("Port", inputs.Port), field("Database (the file path for sqlite)", inputs.DatabaseName),
    field("User", inputs.Username), field("Password", inputs.Password),
    h("div", {}, h("button", { type: "submit", class: "primary" }, "Create endpoint")));
  onSubmit(form, "Create endpoint", async () => {
    const body = {};
    for (const [name, input] of Object.entries(inputs)) {
      if (input.value !== "") body[name] = name === "Port" ? Number(input.value) : input.value;
    }
    const answer = await dms("CreateEndpoint", body);
    form.reset();
    created();
    return `Created endpoint ${answer.Endpoint.EndpointIdentifier}.`;
  });
  fill(element, form);
}
