"""Certificates and TLS to the databases, through boto3 and the CLI: a certificate authority imported as DMS
imports one, endpoints that name it with each SslMode, and TestConnection succeeding or failing as the
servers' certificates (made by scripts/databases.sh for the name localhost only) require."""
import os
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import pytest

from test_dms_api import client, error_code, mariadb, psql, server  # noqa: F401

pytestmark = pytest.mark.skipif("FERRY_TEST_TLS_CA" not in os.environ, reason="the test databases were started without TLS")



def authority():
    with open(os.environ["FERRY_TEST_TLS_CA"]) as pem:
        return pem.read()


def other_authority():
    """A certificate authority that signed neither server's certificate."""
    with tempfile.TemporaryDirectory() as folder:
        pem = os.path.join(folder, "ca.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                        "-subj", "/CN=Someone else", "-keyout", os.path.join(folder, "ca.key"), "-out", pem], check=True, capture_output=True)
        with open(pem) as text:
            return text.read()


def connection_outcome(dms, instance_arn, endpoint_arn):
    """TestConnection's outcome: (status, failure message)."""
    dms.test_connection(ReplicationInstanceArn=instance_arn, EndpointArn=endpoint_arn)
    deadline = time.time() + 60
    while time.time() < deadline:
        connection = dms.describe_connections(Filters=[{"Name": "endpoint-arn", "Values": [endpoint_arn]}])["Connections"][0]
        if connection["Status"] != "testing":
            return connection["Status"], connection.get("LastFailureMessage", "")
        time.sleep(0.2)
    raise AssertionError("the connection test did not end")


def test_a_certificate_is_imported_described_named_by_endpoints_and_deleted_as_in_dms(server):
    dms = client(server)
    name = f"ferry-ca-{uuid.uuid4().hex[:6]}"
    certificate = dms.import_certificate(CertificateIdentifier=name, CertificatePem=authority(),
                                         Tags=[{"Key": "team", "Value": "dba"}])["Certificate"]
    assert certificate["CertificateArn"].split(":")[5] == "cert" and certificate["CertificateIdentifier"] == name
    assert (certificate["SigningAlgorithm"], certificate["KeyLength"]) == ("SHA256withRSA", 2048)
    assert certificate["ValidFromDate"] < certificate["ValidToDate"] and certificate["CertificatePem"] == authority()
    assert dms.describe_certificates(Filters=[{"Name": "certificate-id", "Values": [name]}])["Certificates"] == [certificate]
    tags = dms.list_tags_for_resource(ResourceArn=certificate["CertificateArn"])["TagList"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("team", "dba")]
    elliptic = dms.import_certificate(CertificateIdentifier=f"{name}-ec", CertificatePem=other_authority())["Certificate"]
    assert (elliptic["SigningAlgorithm"], elliptic["KeyLength"]) == ("SHA256withECDSA", 256)

    assert error_code(dms.import_certificate, CertificateIdentifier=name, CertificatePem=authority())[0] == "ResourceAlreadyExistsFault"
    code, message = error_code(dms.import_certificate, CertificateIdentifier=f"{name}-bad", CertificatePem="-----BEGIN CERTIFICATE-----\nnope\n")
    assert code == "InvalidCertificateFault" and "CertificatePem" in message
    code, message = error_code(dms.import_certificate, CertificateIdentifier=f"{name}-wallet", CertificateWallet=b"wallet")
    assert code == "InvalidParameterValueException" and "CertificateWallet" in message

    url = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"])
    endpoint = {"EndpointIdentifier": f"{name}-pg", "EndpointType": "source", "EngineName": "postgres", "ServerName": "localhost",
                "Port": url.port, "Username": "postgres", "DatabaseName": "postgres", "SslMode": "verify-full"}
    code, message = error_code(dms.create_endpoint, **endpoint)
    assert code == "InvalidParameterCombinationException" and "CertificateArn" in message
    missing = certificate["CertificateArn"][:-4] + "XXXX"
    assert error_code(dms.create_endpoint, **endpoint, CertificateArn=missing)[0] == "ResourceNotFoundFault"
    created = dms.create_endpoint(**endpoint, CertificateArn=certificate["CertificateArn"])["Endpoint"]
    assert (created["SslMode"], created["CertificateArn"]) == ("verify-full", certificate["CertificateArn"])

    code, message = error_code(dms.delete_certificate, CertificateArn=certificate["CertificateArn"])
    assert code == "InvalidResourceStateFault" and f"{name}-pg" in message
    dms.delete_endpoint(EndpointArn=created["EndpointArn"])
    assert dms.delete_certificate(CertificateArn=certificate["CertificateArn"])["Certificate"]["CertificateIdentifier"] == name
    dms.delete_certificate(CertificateArn=elliptic["CertificateArn"])
    assert error_code(dms.delete_certificate, CertificateArn=certificate["CertificateArn"])[0] == "ResourceNotFoundFault"
    assert error_code(dms.describe_certificates, Filters=[{"Name": "certificate-id", "Values": [name]}])[0] == "ResourceNotFoundFault"


# Per engine and SslMode, with the servers' certificate made for `localhost`: whether TestConnection succeeds
# at that name and at 127.0.0.1. Connector/C checks the name in verify-ca too.
EXPECTED = {
    ("postgres", "require"): (True, True),
    ("postgres", "verify-ca"): (True, True),
    ("postgres", "verify-full"): (True, False),
    ("mariadb", "require"): (True, True),
    ("mariadb", "verify-ca"): (True, False),
    ("mariadb", "verify-full"): (True, False),
}


def test_each_ssl_mode_connects_or_fails_as_the_servers_certificate_requires(server):
    dms = client(server)
    suffix = uuid.uuid4().hex[:6]
    ours = dms.import_certificate(CertificateIdentifier=f"ours-{suffix}", CertificatePem=authority())["Certificate"]["CertificateArn"]
    theirs = dms.import_certificate(CertificateIdentifier=f"theirs-{suffix}", CertificatePem=other_authority())["Certificate"]["CertificateArn"]
    instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"tls-{suffix}", ReplicationInstanceClass="dms.t3.micro")
    instance_arn = instance["ReplicationInstance"]["ReplicationInstanceArn"]
    # Only TLS connections may use these accounts, and they need a password.
    psql("DROP ROLE IF EXISTS ferry_tls_only; CREATE ROLE ferry_tls_only LOGIN PASSWORD 'tls-secret'", "postgres")
    mariadb("DROP USER IF EXISTS ferry_tls_only; CREATE USER ferry_tls_only IDENTIFIED BY 'tls-secret' REQUIRE SSL")
    servers = {"postgres": urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"]).port,
               "mariadb": urllib.parse.urlparse(os.environ["FERRY_TEST_MYSQL_URL"]).port}
    made = []

    def outcome(engine, mode, host, certificate=None, user=None):
        args = {"EndpointIdentifier": f"{engine}-{mode}-{len(made)}-{suffix}", "EndpointType": "source", "EngineName": engine,
                "ServerName": host, "Port": servers[engine], "Username": user or ("postgres" if engine == "postgres" else "root"),
                "SslMode": mode}
        if engine == "postgres":
            args["DatabaseName"] = "postgres"
        if user:
            args["Password"] = "tls-secret"
        if certificate:
            args["CertificateArn"] = certificate
        arn = dms.create_endpoint(**args)["Endpoint"]["EndpointArn"]
        made.append(arn)
        return connection_outcome(dms, instance_arn, arn)

    try:
        for (engine, mode), (by_name, by_address) in EXPECTED.items():
            certificate = ours if mode.startswith("verify") else None
            for host, expected in (("localhost", by_name), ("127.0.0.1", by_address)):
                status, message = outcome(engine, mode, host, certificate)
                assert (status == "successful") == expected, f"{engine} {mode} at {host}: {status} {message}"
                if not expected:
                    assert "certificate" in message and host in message, message
            if mode.startswith("verify"):
                status, message = outcome(engine, mode, "localhost", theirs)
                assert status == "failed" and "certificate" in message.lower(), f"{engine} {mode}, another authority: {message}"
            # An account that only TLS may use: refused without it, let in with it.
            assert outcome(engine, "none", "localhost", user="ferry_tls_only")[0] == "failed"
            assert outcome(engine, mode, "localhost", certificate, user="ferry_tls_only") == ("successful", "")
    finally:
        for arn in made:
            dms.delete_endpoint(EndpointArn=arn)
        for certificate in (ours, theirs):
            dms.delete_certificate(CertificateArn=certificate)
        psql("DROP ROLE IF EXISTS ferry_tls_only", "postgres")
        mariadb("DROP USER IF EXISTS ferry_tls_only")


def test_ferry_migrate_checks_the_servers_certificate_named_in_its_url(tmp_path):
    port = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"]).port
    database = f"tls_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE DATABASE {database}", "postgres")
    try:
        psql("CREATE TABLE public.items (id int PRIMARY KEY, note text); INSERT INTO public.items SELECT g, 'row' FROM generate_series(1, 100) g", database)
        ca = os.environ["FERRY_TEST_TLS_CA"]

        def migrate(host, mode="verify-full", authority_file=ca):
            source = f"postgres://postgres@{host}:{port}/{database}?sslmode={mode}&sslrootcert={authority_file}"
            target = f"sqlite://{tmp_path}/{host}-{mode}.db"
            return subprocess.run([os.environ["FERRY_BIN"], "migrate", "--mode", "full-load", "--source", source, "--target", target],
                                  capture_output=True, text=True, timeout=120)

        good = migrate("localhost")
        assert good.returncode == 0, good.stdout + good.stderr
        wrong_name = migrate("127.0.0.1")
        assert wrong_name.returncode != 0 and "127.0.0.1" in wrong_name.stderr and "localhost" in wrong_name.stderr, wrong_name.stderr
        missing = migrate("localhost", authority_file="/nonexistent/ca.pem")
        assert missing.returncode != 0 and "sslrootcert" in missing.stderr, missing.stderr
    finally:
        psql(f"DROP DATABASE {database} WITH (FORCE)", "postgres")
