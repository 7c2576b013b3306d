"""Which webhook targets are refused (server-side request forgery) and the Standard Webhooks signature."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from engpass.webhooks import signing
from engpass.webhooks.targets import TargetRefused, address_problem, resolve, split

REFUSED_URLS = [
    ("https://127.0.0.1/hook", "loopback"),
    ("https://127.1.2.3:8443/hook", "loopback"),
    ("https://localhost/hook", "loopback"),
    ("https://[::1]/hook", "loopback"),
    ("https://[::ffff:127.0.0.1]/hook", "loopback"),
    ("https://[::ffff:10.1.2.3]/hook", "private"),
    ("https://10.0.0.5/hook", "private"),
    ("https://172.16.8.1/hook", "private"),
    ("https://192.168.178.1/hook", "private"),
    ("https://[fd00::1]/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[fe80::1]/hook", "link-local"),
    ("https://224.0.0.251/hook", "multicast"),
    ("https://[ff02::1]/hook", "multicast"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("https://[::]/hook", "unspecified"),
    ("https://240.0.0.1/hook", "reserved"),
    ("https://100.64.0.1/hook", "not-global"),
]


@pytest.mark.parametrize(("url", "problem"), REFUSED_URLS)
def test_private_and_special_addresses_are_refused(url, problem):
    with pytest.raises(TargetRefused, match=rf"\({problem}\)$"):
        resolve(url, allow_http=False, allow_private=False)


@pytest.mark.parametrize(("url", "problem"), REFUSED_URLS[:6])
def test_the_operator_may_allow_them(url, problem):
    assert address_problem(resolve(url, allow_http=False, allow_private=True).address) == problem


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"])
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address)) is None


def test_the_connection_goes_to_the_checked_address_with_the_url_s_path():
    target = resolve("https://93.184.215.14:8443/in/hook?source=engpass", allow_http=False, allow_private=False)
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "93.184.215.14",
        8443,
        "/in/hook?source=engpass",
    )
    assert str(target.address) == "93.184.215.14"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.215.14/hook", "https://"),
        ("ftp://93.184.215.14/hook", "https://"),
        ("https:///hook", "no host"),
        ("https://user:pass@93.184.215.14/hook", "user name"),
        ("https://93.184.215.14:99999/hook", "not a URL"),
        ("just words", "https://"),
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url, message):
    with pytest.raises(TargetRefused, match=message):
        split(url, allow_http=False)


def test_plain_http_only_when_allowed():
    assert split("http://93.184.215.14/hook", allow_http=True).scheme == "http"


def test_the_signature_is_the_one_standard_webhooks_computes():
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    body = '{"type":"cycle.created","data":{"title":"Angebote – schneller"}}'.encode()
    moment = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    ours = signing.signature(secret, "msg_1", int(moment.timestamp()), body)
    assert ours == Webhook(secret).sign("msg_1", moment, body.decode())


def test_headers_carry_every_secret_s_signature():
    first, second = signing.new_secret(), signing.new_secret()
    headers = signing.headers([first, second], "msg_2", 1_700_000_000, b"{}")
    assert headers["webhook-id"] == "msg_2" and headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].split(" ") == [
        signing.signature(first, "msg_2", 1_700_000_000, b"{}"),
        signing.signature(second, "msg_2", 1_700_000_000, b"{}"),
    ]
