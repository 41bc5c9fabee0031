"""The web console of `ferry serve`: its session rules over a real socket (nothing works unsigned, the
cookie's flags, CSRF and origin checks), and a real headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium) that signs in, watches a running CDC task's lag chart move while an
application writes, reloads a table, stops the task, and logs no error in the browser's console."""
import http.cookiejar
import json
import os
import urllib.error
import urllib.request

import pytest
from selenium import webdriver
from selenium.common.exceptions import ElementClickInterceptedException, NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from test_api_cutover import Migration
from test_cli_cutover import Writer, pg_side
from test_dms_api import ACCESS_KEY, FAST, REGION, SECRET_KEY, client, server  # noqa: F401
from test_task_defaults import wait_for


class Console:
    """A urllib client of the console's calls with a cookie jar, as a browser holds the cookie."""

    def __init__(self, url):
        self.url, self.jar = url, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None

    def post(self, path, body, headers=None):
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with self.opener.open(request, timeout=30) as response:
                text = response.read()
                return response.status, json.loads(text) if text else {}, response.headers
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}"), error.headers

    def sign_in(self, secret=SECRET_KEY, key=ACCESS_KEY):
        status, body, headers = self.post("/console/api/sign-in", {"accessKeyId": key, "secretAccessKey": secret, "region": REGION})
        self.csrf = body.get("csrfToken")
        return status, body, headers

    def call(self, operation, body=None, csrf=True, headers=None):
        return self.post(f"/console/api/dms/{operation}", body or {}, {**({"X-Ferry-CSRF": self.csrf or ""} if csrf else {}), **(headers or {})})


def test_nothing_of_the_console_works_unsigned(server):
    console = Console(server["url"])
    with urllib.request.urlopen(server["url"] + "/", timeout=10) as page:
        assert page.headers["Content-Type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["Content-Security-Policy"] and page.headers["X-Frame-Options"] == "DENY"
        assert b"/console/app.js" in page.read()
    status, body, _ = console.call("DescribeReplicationTasks")
    assert status == 401 and body["__type"] == "AccessDeniedFault", body
    status, body, _ = console.post("/console/api/monitoring/ListMetrics", {})
    assert status == 401, body

    status, body, _ = console.sign_in(secret="not-the-secret")
    assert status == 401 and body["__type"] == "UnrecognizedClientException" and "csrfToken" not in body, body
    status, body, headers = console.sign_in()
    assert status == 200 and body["accessKeyId"] == ACCESS_KEY and "secretAccessKey" not in body, body
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie, cookie
    assert SECRET_KEY not in cookie

    assert console.call("DescribeReplicationTasks")[0] == 200
    status, body, _ = console.call("DescribeReplicationTasks", csrf=False)
    assert status == 403 and "X-Ferry-CSRF" in body["message"], body
    status, body, _ = console.call("DescribeReplicationTasks", headers={"Origin": "http://evil.example"})
    assert status == 403 and "another origin" in body["message"], body
    status, body, _ = console.call("DescribeEndpoints", {"MaxRecords": 5})
    assert status == 400 and body["__type"] == "InvalidParameterValueException", "the API's own errors come through"
    nothing = {"Filters": [{"Name": "replication-task-arn", "Values": ["arn:aws:dms:eu-central-1:1:task:NONE"]}]}
    status, body, _ = console.call("DescribeReplicationTaskAssessmentRuns", nothing)
    assert status == 400 and body["__type"] == "ResourceNotFoundFault", body
    status, body, _ = console.call("DescribeReplicationTaskAssessmentRuns?notFound=empty", nothing)
    assert (status, body) == (200, {}), "the page may ask for nothing found to be an empty answer"

    assert console.post("/console/api/sign-out", {}, {"X-Ferry-CSRF": console.csrf})[0] == 204
    assert console.call("DescribeReplicationTasks")[0] == 401, "a signed-out session is gone"


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    yield driver
    driver.quit()


def points(browser, chart):
    return int(browser.find_element(By.CSS_SELECTOR, f'[data-chart="{chart}"] svg.chart').get_attribute("data-points"))


def click(browser, selector):
    """Clicks an element the page may redraw meanwhile (it refreshes every few seconds)."""
    def clicked(b):
        try:
            element = b.find_element(By.CSS_SELECTOR, selector)
            b.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            element.click()
            return True
        except (StaleElementReferenceException, NoSuchElementException, ElementClickInterceptedException):
            return False
    WebDriverWait(browser, 60, poll_frequency=0.2).until(clicked)


def accept_confirmation(browser):
    WebDriverWait(browser, 10).until(expected_conditions.alert_is_present())
    browser.switch_to.alert.accept()


def test_the_console_watches_and_drives_a_running_task(server, browser):
    dms = client(server)
    migration = Migration(dms, rows=500)
    writer = Writer(pg_side(migration.source_db))
    writer.start()
    # The page redraws its parts every few seconds: an element found may be replaced before it is read.
    wait = WebDriverWait(browser, 60, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException])
    try:
        browser.get(server["url"] + "/")
        form = wait.until(expected_conditions.presence_of_element_located((By.ID, "sign-in")))
        form.find_element(By.NAME, "accessKeyId").send_keys(ACCESS_KEY)
        form.find_element(By.NAME, "secretAccessKey").send_keys(SECRET_KEY)
        region = form.find_element(By.NAME, "region")
        region.clear()
        region.send_keys(REGION)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

        row = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-task="{migration.name}"]')))
        assert "running" in row.text
        assert browser.get_cookie("ferry_session")["httpOnly"]
        assert browser.execute_script("return document.cookie") == "", "the session cookie is not readable by scripts"
        click(browser, f'tr[data-task="{migration.name}"] a')

        # The lag chart moves: new 10-second points arrive while the application writes.
        wait.until(lambda b: points(b, "Latency") > 0)
        first = points(browser, "Latency")
        WebDriverWait(browser, 90, poll_frequency=0.5, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda b: points(b, "Latency") > first)
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR, '[data-chart="Latency"] path[data-series="CDCLatencySource"]'))
        wait.until(lambda b: "change data capture" in b.find_element(By.ID, "stream").text)
        wait.until(lambda b: "PostgreSQL system" in b.find_element(By.ID, "stream").text)
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "#log-tail").text.strip() != "")

        # Reload a table from its row.
        click(browser, 'button[data-reload="public.orders"][data-option="data-reload"]')
        accept_confirmation(browser)

        def reloaded():
            tables = dms.describe_table_statistics(ReplicationTaskArn=migration.arn)["TableStatistics"]
            return any(t["TableName"] == "orders" and t.get("FullLoadReloaded") for t in tables)
        wait_for(reloaded, "the table to be reloaded")

        # The page is readable on a phone: nothing wider than the screen but the tables' own scrollers.
        browser.set_window_size(390, 844)
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        browser.set_window_size(1280, 1000)

        # Stop the task.
        click(browser, "#stop-task")
        accept_confirmation(browser)
        dms.get_waiter("replication_task_stopped").wait(Filters=[{"Name": "replication-task-arn", "Values": [migration.arn]}], WaiterConfig=FAST)
        wait.until(lambda b: "stopped" in b.find_element(By.ID, "task-status").text)

        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == [], errors
    finally:
        writer.stop.set()
        writer.join(timeout=10)
        migration.close()
