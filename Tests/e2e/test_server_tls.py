"""`ferry serve` over HTTPS (--tls-cert, --tls-key) with boto3 and the aws CLI checking its certificate, and
the rule that keeps plain HTTP off addresses other machines reach unless --insecure-listen says so."""
import json
import os
import ssl
import subprocess
import tempfile
import time
import urllib.request

import boto3
import pytest

from test_dms_api import ACCESS_KEY, REGION, SECRET_KEY, free_port


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates():
    """A certificate authority, a server certificate it signed for localhost, and a key of another pair."""
    with tempfile.TemporaryDirectory() as folder:
        path = {name: os.path.join(folder, name) for name in ("ca.pem", "ca.key", "server.pem", "server.key", "server.csr", "other.key", "ext")}
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Ferry API test CA", "-keyout", path["ca.key"], "-out", path["ca.pem"])
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", path["server.key"], "-out", path["server.csr"])
        with open(path["ext"], "w") as ext:
            ext.write("subjectAltName=DNS:localhost\n")
        openssl("x509", "-req", "-in", path["server.csr"], "-CA", path["ca.pem"], "-CAkey", path["ca.key"], "-CAcreateserial", "-days", "1",
                "-extfile", path["ext"], "-out", path["server.pem"])
        openssl("genpkey", "-algorithm", "RSA", "-out", path["other.key"])
        yield path


def serve(*args, data_dir):
    env = dict(os.environ, FERRY_ACCESS_KEY_ID=ACCESS_KEY, FERRY_SECRET_ACCESS_KEY=SECRET_KEY)
    return subprocess.Popen([os.environ["FERRY_BIN"], "serve", "--data-dir", data_dir, *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def refused(*args):
    """Runs `ferry serve` with arguments it must refuse; returns (exit code, output)."""
    with tempfile.TemporaryDirectory() as data_dir:
        process = serve(*args, data_dir=data_dir)
        output, _ = process.communicate(timeout=60)
        return process.returncode, output


def test_the_api_answers_over_https_and_clients_check_its_certificate(certificates):
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        process = serve("--listen", f"127.0.0.1:{port}", "--tls-cert", certificates["server.pem"], "--tls-key", certificates["server.key"],
                        data_dir=data_dir)
        try:
            url = f"https://localhost:{port}"
            trusted = ssl.create_default_context(cafile=certificates["ca.pem"])
            for _ in range(300):
                try:
                    if urllib.request.urlopen(url + "/health", timeout=1, context=trusted).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.05)
            else:
                process.kill()
                raise AssertionError("ferry serve did not start: " + process.stdout.read())

            dms = boto3.client("dms", endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                               aws_secret_access_key=SECRET_KEY, verify=certificates["ca.pem"])
            created = dms.create_replication_instance(ReplicationInstanceIdentifier="over-tls", ReplicationInstanceClass="dms.t3.micro")
            assert created["ReplicationInstance"]["ReplicationInstanceIdentifier"] == "over-tls"
            env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION)
            cli = subprocess.run(["aws", "dms", "describe-replication-instances", "--endpoint-url", url, "--ca-bundle", certificates["ca.pem"]],
                                 env=env, capture_output=True, text=True, timeout=60)
            assert cli.returncode == 0, cli.stderr
            assert [i["ReplicationInstanceIdentifier"] for i in json.loads(cli.stdout)["ReplicationInstances"]] == ["over-tls"]

            # The console's session cookie is Secure when the server itself speaks HTTPS.
            sign_in = urllib.request.Request(url + "/console/api/sign-in", method="POST", headers={"Content-Type": "application/json"},
                                             data=json.dumps({"accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY, "region": REGION}).encode())
            cookie = urllib.request.urlopen(sign_in, timeout=5, context=trusted).headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "; Secure" in cookie, cookie

            with pytest.raises(OSError) as untrusted:
                urllib.request.urlopen(url + "/health", timeout=5, context=ssl.create_default_context())
            assert "CERTIFICATE_VERIFY_FAILED" in str(untrusted.value)
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).read()
        finally:
            process.terminate()
            output, _ = process.communicate(timeout=30)
        assert f"Ferry listening on https://127.0.0.1:{port}" in output


def test_plain_http_stays_on_loopback_unless_asked_and_bad_tls_files_are_named(certificates):
    code, output = refused("--listen", f"0.0.0.0:{free_port()}")
    assert code == 2 and "--tls-cert" in output and "--insecure-listen" in output, output
    code, output = refused("--listen", f"127.0.0.1:{free_port()}", "--tls-cert", certificates["server.pem"])
    assert code == 2 and "--tls-cert: needs --tls-key" in output, output
    code, output = refused("--listen", f"127.0.0.1:{free_port()}", "--tls-cert", certificates["server.pem"], "--tls-key", certificates["other.key"])
    assert code == 2 and "--tls-key" in output and "does not go with" in output, output
    code, output = refused("--listen", f"127.0.0.1:{free_port()}", "--tls-cert", "/nonexistent.pem", "--tls-key", certificates["server.key"])
    assert code == 2 and "--tls-cert" in output and "/nonexistent.pem" in output, output

    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        process = serve("--listen", f"0.0.0.0:{port}", "--insecure-listen", data_dir=data_dir)
        try:
            for _ in range(300):
                try:
                    if urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.05)
            else:
                raise AssertionError("ferry serve --insecure-listen did not start: " + process.stdout.read())
        finally:
            process.terminate()
            process.communicate(timeout=30)
