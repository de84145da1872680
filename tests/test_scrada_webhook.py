"""The webhook listener of a real `relais serve` process: partner-level events filed by shop, the
linesMissing alert on the dashboard, and HTTPS with a certificate made by the test."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import re
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import relais
from webapp.config import resolve_data_dir
from webapp.scrada import config as scrada_config
from webapp.scrada import records
from webapp.services import open_services
from webapp.simulators.scrada import ScradaSimulator, WebhookEvent

PASSPHRASE = "webhook serve passphrase"
SECRET = "webhook secret for serve tests"


@pytest.fixture
def sim() -> Any:
    simulator = ScradaSimulator(rate_limit=None)
    simulator.start()
    yield simulator
    simulator.stop()


def prepared(tmp_path: Path, *known: Any) -> Path:
    """A data folder with the root folder and the webhook secret (in the file vault), and the
    `known` companies as a pull would have listed them (Scrada id, number, name)."""
    data = tmp_path / "data"
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        services.vault.create(PASSPHRASE)
        scrada_config.apply(
            services.store,
            services.vault,
            scrada_config.ConfigChange(root=str(tmp_path / "compta"), webhook_secret=SECRET),
        )
        with services.store.write() as db:
            for company in known:
                records.upsert_company(
                    db,
                    company.id,
                    source="partner",
                    selected=True,
                    company_number=company.tax_number,
                    name=company.name,
                )
    finally:
        services.close()
    return data


def hook_url(data: Path) -> str:
    return str(json.loads((data / "webhook.json").read_text())["url"])


def signed(event: WebhookEvent, event_id: str) -> dict[str, str]:
    return {
        "x-scrada-topic": event.topic,
        "x-scrada-company-id": event.company_id,
        "x-scrada-event-id": event_id,
        "x-scrada-hmac-sha256": hmac.new(SECRET.encode(), event.body, hashlib.sha256).hexdigest(),
    }


def receipt(sim: ScradaSimulator, company: Any, **options: Any) -> WebhookEvent:
    journal = company.journals[0].id
    return sim.document_event(company.id, journal, sim.add_document(company.id, journal), **options)


def alerts_section(html: str) -> str:
    found = re.search(r'<section id="scrada-alerts".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_partner_level_webhooks_through_relais_serve(
    sim: ScradaSimulator, tmp_path: Path, relais_server: Any
) -> None:
    dupont = sim.add_company("Boulangerie Dupont", documents=1)
    cafe = sim.add_company("Café du Centre")  # not known yet: adopted from its document
    data = prepared(tmp_path, dupont)
    server = relais_server(
        "--webhook-listen", "127.0.0.1:0", data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE
    )
    url = hook_url(data)
    for shop in (dupont, cafe):
        event = receipt(sim, shop, partner_level=True)
        assert event.company_id == sim.partner_id
        assert sim.send_event(url, event, secret=SECRET, attempts=1) == 200
    root = tmp_path / "compta"
    folders = {path.name for path in root.iterdir() if not path.name.startswith((".", "_"))}
    assert folders == {dupont.tax_number, cafe.tax_number}, "each shop in its own folder"
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        companies = {company.id: company.name for company in records.companies(services.store)}
    finally:
        services.close()
    assert companies == {dupont.id: dupont.name, f"doc-{cafe.tax_number}": cafe.name}

    since = dupont.journals[0].documents[-1].day  # the receipt just delivered
    missing = sim.lines_missing_event(dupont.id, dupont.journals[0].id, since, partner_level=True)
    assert sim.send_event(url, missing, secret=SECRET, attempts=1) == 200
    page = httpx.get(server.url + "/", timeout=10)
    section = alerts_section(page.text)
    # French by default: the day as a Belgian reads it.
    assert "Boulangerie Dupont" in section, page.text[:3000]
    assert since.strftime("%d/%m/%Y") in section
    assert httpx.get(url.replace("/hooks/scrada", "/"), timeout=5).status_code == 404

    newer = receipt(sim, dupont, partner_level=True)
    assert sim.send_event(url, newer, secret=SECRET, attempts=1) == 200
    assert alerts_section(httpx.get(server.url + "/", timeout=10).text) == ""


def test_the_webhook_listener_over_https(
    sim: ScradaSimulator, tmp_path: Path, relais_server: Any
) -> None:
    data = prepared(tmp_path)
    cert, key = self_signed(tmp_path / "tls")
    server = relais_server(
        "--webhook-listen",
        "127.0.0.1:0",
        "--webhook-cert",
        str(cert),
        "--webhook-key",
        str(key),
        data_dir=data,
        RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )
    url = hook_url(data)
    assert url.startswith("https://127.0.0.1:") and url.endswith("/hooks/scrada")
    event = receipt(sim, sim.add_company("Boulangerie Dupont"), partner_level=True)
    trusted = ssl.create_default_context(cafile=str(cert))
    answer = httpx.post(url, content=event.body, headers=signed(event, "tls-1"), verify=trusted)
    assert answer.status_code == 200 and answer.json()["status"] == "delivered"
    assert answer.headers["cache-control"] == "no-store"
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, content=event.body, headers=signed(event, "tls-2"))  # system CAs only
    with pytest.raises(httpx.HTTPError):
        httpx.post(url.replace("https://", "http://"), content=b"x", timeout=5)
    assert server.url.startswith("http://")
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200, "the UI stays HTTP"
    with pytest.raises(httpx.HTTPError):
        httpx.get(server.url.replace("http://", "https://") + "/healthz", verify=False, timeout=5)
    assert server.stop() == 0, "the HTTPS listener's thread ends with the server"


def test_serve_refuses_bad_webhook_certificate_options(tmp_path: Path) -> None:
    data = prepared(tmp_path)
    cert, _key = self_signed(tmp_path / "tls")
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    base = ("serve", "--no-browser", "--port", "0")
    listen = ("--webhook-listen", "127.0.0.1:0")
    refused = relais(*base, *listen, "--webhook-cert", str(bad), data_dir=data)
    assert refused.returncode != 0
    assert "certificat de l'écoute des webhooks est inutilisable" in refused.stdout + refused.stderr
    no_key = relais(*base, *listen, "--webhook-cert", str(cert), data_dir=data)
    assert no_key.returncode != 0, "the certificate file alone holds no private key"
    alone = relais(*base, "--webhook-cert", str(cert), data_dir=data)
    assert alone.returncode != 0 and "--webhook-listen" in alone.stdout + alone.stderr
    key_only = relais(*base, *listen, "--webhook-key", str(cert), data_dir=data)
    assert key_only.returncode != 0 and "--webhook-cert" in key_only.stdout + key_only.stderr


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself, and its key, as PEM files."""
    folder.mkdir()
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "cert.pem").write_bytes(cert.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem"


def test_an_alerts_day_is_written_as_the_reader_writes_dates() -> None:
    from webapp import i18n
    from webapp.scrada.alerts import Alert

    alert = Alert(
        1, "lines_missing", "c1", "Dupont", "j1", "", datetime.date(2026, 1, 31), "2026-02-01"
    )
    with i18n.language("fr"):
        assert alert.since_text == "31/01/2026" and "31/01/2026" in alert.message
    with i18n.language("en"):
        assert alert.since_text == "2026-01-31"
