"""DMS Serverless through boto3: a replication config made, checked, started (full load, then changes),
described as a replication with its table statistics, reloaded, refused changes while it runs, stopped,
modified and deleted, with DMS's errors."""

import botocore.exceptions

from test_dms_api import client, error_code, psql, server  # noqa: F401
from test_task_defaults import MAPPINGS, Pair, wait_for

ITEMS = ("CREATE TABLE public.items (id int PRIMARY KEY, note text); "
         "INSERT INTO public.items SELECT g, 'row ' || g FROM generate_series(1, 3000) g")



def test_a_serverless_replication_loads_streams_and_is_stopped_changed_and_deleted_as_in_dms(server):
    dms = client(server)
    pair = Pair(dms, ITEMS)
    name = f"serverless-{pair.suffix}"
    config_args = dict(ReplicationConfigIdentifier=name, SourceEndpointArn=pair.source["EndpointArn"],
                       TargetEndpointArn=pair.target["EndpointArn"], ReplicationType="full-load-and-cdc", TableMappings=MAPPINGS,
                       ComputeConfig={"MaxCapacityUnits": 2, "MinCapacityUnits": 1})
    arn = None
    try:
        config = dms.create_replication_config(**config_args, Tags=[{"Key": "team", "Value": "dba"}])["ReplicationConfig"]
        arn = config["ReplicationConfigArn"]
        assert arn.split(":")[5] == "replication-config" and config["ReplicationConfigIdentifier"] == name
        assert config["ComputeConfig"]["MaxCapacityUnits"] == 2 and config["ReplicationType"] == "full-load-and-cdc"
        assert dms.describe_replication_configs(Filters=[{"Name": "replication-config-id", "Values": [name]}])["ReplicationConfigs"] == [config]
        assert [(t["Key"], t["Value"]) for t in dms.list_tags_for_resource(ResourceArn=arn)["TagList"]] == [("team", "dba")]

        assert error_code(dms.create_replication_config, **config_args)[0] == "ResourceAlreadyExistsFault"
        code, message = error_code(dms.create_replication_config, **{**config_args, "ReplicationConfigIdentifier": "no-max", "ComputeConfig": {}})
        assert code == "InvalidParameterValueException" and "MaxCapacityUnits" in message
        code, message = error_code(dms.create_replication_config, **{**config_args, "ReplicationConfigIdentifier": "three",
                                                                      "ComputeConfig": {"MaxCapacityUnits": 3}})
        assert code == "InvalidParameterValueException" and "3" in message
        assert error_code(dms.create_replication_config, **{**config_args, "ReplicationConfigIdentifier": "nowhere",
                                                             "SourceEndpointArn": pair.source["EndpointArn"] + "X"})[0] == "ResourceNotFoundFault"

        def replication():
            return dms.describe_replications(Filters=[{"Name": "replication-config-arn", "Values": [arn]}])["Replications"][0]

        assert replication()["Status"] == "created"
        started = dms.start_replication(ReplicationConfigArn=arn, StartReplicationType="start-replication")["Replication"]
        assert started["ReplicationConfigIdentifier"] == name and started["StartReplicationType"] == "start-replication"
        wait_for(lambda: replication()["Status"] == "running", "the replication to run")
        assert replication()["ProvisionData"]["ProvisionedCapacityUnits"] == 2

        def loaded():
            tables = dms.describe_replication_table_statistics(ReplicationConfigArn=arn)["ReplicationTableStatistics"]
            return tables and tables[0]["TableState"] == "Table completed" and tables[0]["FullLoadRows"] == 3000

        wait_for(loaded, "the full load")
        psql("INSERT INTO public.items VALUES (3001, 'streamed')", pair.source_db)
        wait_for(lambda: pair.on_target("SELECT count(*) FROM public.items WHERE id = 3001") == "1", "the change to stream")
        assert dms.reload_replication_tables(ReplicationConfigArn=arn, TablesToReload=[{"SchemaName": "public", "TableName": "items"}]
                                             )["ReplicationConfigArn"] == arn

        code, message = error_code(dms.modify_replication_config, ReplicationConfigArn=arn, ComputeConfig={"MaxCapacityUnits": 4})
        assert code == "InvalidResourceStateFault" and "StopReplication" in message
        assert error_code(dms.delete_replication_config, ReplicationConfigArn=arn)[0] == "InvalidResourceStateFault"

        dms.stop_replication(ReplicationConfigArn=arn)
        wait_for(lambda: replication()["Status"] == "stopped", "the replication to stop")
        stopped = replication()
        assert stopped["ProvisionData"]["ProvisionState"] == "deprovisioned" and stopped["ReplicationStats"]["TablesLoaded"] == 1
        changed = dms.modify_replication_config(ReplicationConfigArn=arn, ComputeConfig={"MaxCapacityUnits": 4})["ReplicationConfig"]
        assert changed["ComputeConfig"]["MaxCapacityUnits"] == 4 and changed["TableMappings"] == MAPPINGS

        dms.start_replication(ReplicationConfigArn=arn, StartReplicationType="resume-processing")
        wait_for(lambda: replication()["Status"] == "running", "the replication to resume")
        psql("UPDATE public.items SET note = 'resumed' WHERE id = 1", pair.source_db)
        wait_for(lambda: pair.on_target("SELECT note FROM public.items WHERE id = 1") == "resumed", "the change after the resume")
        dms.stop_replication(ReplicationConfigArn=arn)
        wait_for(lambda: replication()["Status"] == "stopped", "the replication to stop again")

        assert dms.delete_replication_config(ReplicationConfigArn=arn)["ReplicationConfig"]["ReplicationConfigIdentifier"] == name
        assert error_code(dms.describe_replication_configs, Filters=[{"Name": "replication-config-arn", "Values": [arn]}])[0] == "ResourceNotFoundFault"
        assert error_code(dms.start_replication, ReplicationConfigArn=arn, StartReplicationType="start-replication")[0] == "ResourceNotFoundFault"
        assert not [t for t in dms.describe_replication_tasks()["ReplicationTasks"] if t["ReplicationTaskIdentifier"] == name], \
            "the replication's task goes with its config"
        assert psql(f"SELECT count(*) FROM pg_replication_slots WHERE database = '{pair.source_db}'", "postgres") == "0", \
            "deleting the config drops its slot"
    finally:
        if arn:
            try:
                dms.stop_replication(ReplicationConfigArn=arn)
            except botocore.exceptions.ClientError:
                pass  # not running, or deleted
        pair.close()
