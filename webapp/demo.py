"""--demo: a first start that shows something. The platform's processes have run once, the back
office holds a wine estate, and a built-in Scrada simulator (a real HTTP server on 127.0.0.1,
for as long as Relais runs) feeds the Scrada pull with a few client companies."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date

from webapp import settings
from webapp.backoffice.demo import seed_backoffice_demo
from webapp.services import Services

log = logging.getLogger(__name__)

# The demo data folder's own vault passphrase: demo data only, never a real key.
DEMO_PASSPHRASE = "relais-demo-vault"
DEMO_COMPANIES = (
    ("Boulangerie Dupont", 12),
    ("Café du Centre", 10),
    ("Fleurs de Liège", 8),
    ("Librairie Page 2", 6),
)


def seed_demo(services: Services) -> None:
    """Idempotent: runs once per data folder."""
    # Before the platform's marker: data folders seeded before the back office existed get it too.
    seed_backoffice_demo(services.store)
    if settings.read_value(services.store, "demo_seeded", False):
        return
    for name in ("database_backup", "history_purge"):
        services.runner.run(name, origin="command")
    seed_connector_demo(services)
    settings.write_value(services.store, "demo_seeded", True)
    log.info("demo data seeded")


DEMO_ORDERS = [
    # doc_ref, customer_ref, last name, first name, e-mail, [(shop article, quantity, price incl. VAT)]
    (
        "WEB-1001",
        "web-417",
        "Petit",
        "Isabelle",
        "isabelle.petit@example.fr",
        [("PN22", 6, "21,00")],
    ),
    (
        "WEB-1002",
        "web-502",
        "Moreau",
        "Julie",
        "julie.moreau@example.fr",
        [("PN22", 3, "21,00"), ("POM20", 1, "58,00")],
    ),
    ("WEB-1003", "web-503", "Nouveau", "Client", "nouveau@example.fr", [("CREMANT-X", 2, "16,50")]),
]


def seed_connector_demo(services: Services) -> None:
    """A web-shop connector with folders in the data folder and an orders file waiting, so the
    e-connecteur's screens show a reception (a homonym, a new customer, an article to map)."""
    from webapp.econnector import connectors, mappings
    from webapp.files import atomic_write_text

    if settings.read_value(services.store, "demo_connector_seeded", False):
        return
    base = services.data_dir.path / "connector-demo"
    inbox, outbox = base / "in", base / "out"
    inbox.mkdir(parents=True, exist_ok=True)
    outbox.mkdir(parents=True, exist_ok=True)
    try:
        web = connectors.save(
            services.store,
            connectors.Connector(
                code="BOUTIQUE",
                partner="PrestaShop",
                import_dir=str(inbox),
                export_dir=str(outbox),
                generate_payment=True,
            ),
        )
        mappings.set_mapping(services.store, web, "article", "PN22", "RBPN22")
        mappings.set_mapping(services.store, web, "article", "POM20", "RPOM20")
    except Exception:  # a back office without the demo articles: no connector demo
        log.warning("demo: the connector could not be made", exc_info=True)
        return
    header = (
        "doc_ref;doc_date;customer_ref;last_name;first_name;company;email;address;postcode;city;"
        "country;line_no;article_ref;variant_ref;label;quantity;unit;unit_price_incl_vat;vat_code;"
        "payment_method;total_incl_vat"
    )
    rows = [header]
    for doc_ref, ref, last, first, email, lines in DEMO_ORDERS:
        total = sum(qty * float(price.replace(",", ".")) for _, qty, price in lines)
        for number, (article, qty, price) in enumerate(lines, 1):
            amount = f"{total:.2f}".replace(".", ",")
            rows.append(
                f"{doc_ref};{date.today():%d/%m/%Y};{ref};{last};{first};;{email};;21000;Dijon;FR;"
                f"{number};{article};;;{qty};BT;{price};20;CARD;{amount}"
            )
    atomic_write_text(inbox / "commandes.csv", "\n".join(rows) + "\n")
    settings.write_value(services.store, "demo_connector_seeded", True)


def start_scrada_simulator(services: Services) -> Callable[[], None]:
    """Start the simulator and point the Scrada settings at it; returns its stop function."""
    from webapp.scrada import config as scrada_config
    from webapp.simulators.scrada import ScradaSimulator

    simulator = ScradaSimulator(rate_limit=60, seed=7)
    for name, documents in DEMO_COMPANIES:
        simulator.add_company(name, documents=documents, peppol=2)
    url = simulator.start()
    if not _demo_vault(services):
        log.warning("demo: the vault is locked, the Scrada credentials are not set")
    current = scrada_config.load(services.store)
    root = str(current.root_in(services.data_dir) or services.data_dir.path / "scrada-demo")
    unlocked = services.vault.is_unlocked
    scrada_config.apply(
        services.store,
        services.vault if unlocked else None,
        scrada_config.ConfigChange(
            api_url=f"{url}/v1/",
            root=root,
            api_key=simulator.api_key if unlocked else None,
            password=simulator.password if unlocked else None,
            webhook_secret="demo-webhook-secret" if unlocked else None,
        ),
        services.data_dir,
    )
    log.info("demo: Scrada simulator on %s, documents delivered under %s", url, root)
    if unlocked:
        # A first pull once the server is up, so the Scrada page has something to show.
        timer = threading.Timer(3.0, _first_pull, args=(services,))
        timer.daemon = True
        timer.start()
    return simulator.stop


def start_prestashop_simulator(services: Services) -> Callable[[], None]:
    """Start a PrestaShop simulator with its demo shop and point the PRESTA connector (webservice
    mode) at it; returns its stop function. The port changes at each start: the connector's
    address is written again each time (the key, from the simulator's fixed seed, stays)."""
    from dataclasses import replace

    from webapp.econnector import connectors, mappings
    from webapp.simulators.prestashop import PrestaShopSimulator

    simulator = PrestaShopSimulator(seed=7)
    simulator.populate_demo()
    url = simulator.start()
    if not _demo_vault(services):
        log.warning("demo: the vault is locked, the PRESTA connector is not set")
        return simulator.stop
    try:
        existing = connectors.get(services.store, "PRESTA")
    except connectors.ConnectorError:
        existing = None
    try:
        if existing is None:
            shop = connectors.save(
                services.store,
                connectors.Connector(
                    code="PRESTA",
                    partner="Prestashop",
                    mode="webservice",
                    shop_url=url,
                    order_states="2,3",
                ),
                vault=services.vault,
                key=simulator.api_key,
            )
            # As BOUTIQUE: two articles mapped, the others left to map on the first reception.
            mappings.set_mapping(services.store, shop, "article", "PN22", "RBPN22")
            mappings.set_mapping(services.store, shop, "article", "POM20", "RPOM20")
        else:
            connectors.save(
                services.store,
                replace(existing, shop_url=url),
                code="PRESTA",
                vault=services.vault,
                key=simulator.api_key,
            )
    except Exception:  # a back office without the demo articles: no PRESTA connector
        log.warning("demo: the PRESTA connector could not be made", exc_info=True)
    log.info("demo: PrestaShop simulator on %s (connector PRESTA)", url)
    return simulator.stop


def _first_pull(services: Services) -> None:
    from webapp.scrada.delivery import JOB_NAME

    try:
        services.runner.start(JOB_NAME, origin="demo")
    except Exception:
        log.warning("demo: the first Scrada pull could not start", exc_info=True)


def _demo_vault(services: Services) -> bool:
    vault = services.vault
    if vault.is_unlocked:
        return True
    try:
        if not vault.is_initialized:
            vault.create(DEMO_PASSPHRASE)
        else:
            vault.unlock(DEMO_PASSPHRASE)
    except Exception:  # a vault with another passphrase: leave it alone
        log.warning("demo: the vault has another passphrase", exc_info=True)
        return False
    return True
