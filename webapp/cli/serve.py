"""`relais serve` and `relais tray`: the web interface, the processes, and the tray icon."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from webapp import logs
from webapp.cli.common import EXIT_BAD_INPUT, CliState, fail
from webapp.config import DEFAULT_HOST, DEFAULT_PORT
from webapp.i18n import _
from webapp.sockets import PortUnavailable


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=int, default=None, help=f"Port (default {DEFAULT_PORT}, or the next free one)."
)
@click.option("--no-browser", is_flag=True, help="Do not open the browser.")
@click.option("--demo", is_flag=True, help="Seed demonstration data on first start.")
@click.option(
    "--allow-host", "allow_hosts", multiple=True, help="Extra Host name accepted (repeatable)."
)
@click.option(
    "--webhook-listen",
    metavar="HOST:PORT",
    help="Also receive Scrada webhooks (POST /hooks/scrada) on this address.",
)
@click.option(
    "--webhook-cert",
    type=click.Path(dir_okay=False, exists=True),
    help="HTTPS certificate (PEM) of the webhook listener.",
)
@click.option(
    "--webhook-key", type=click.Path(dir_okay=False, exists=True), help="Its private key (PEM)."
)
@click.option(
    "--pos-listen",
    metavar="HOST:PORT",
    help="Also serve the cash registers' API (/api/pos/v1) on this address.",
)
@click.option(
    "--pos-cert",
    type=click.Path(dir_okay=False, exists=True),
    help="HTTPS certificate (PEM) of the cash registers' API.",
)
@click.option(
    "--pos-key", type=click.Path(dir_okay=False, exists=True), help="Its private key (PEM)."
)
@click.option(
    "--role",
    type=click.Choice(["office", "register"]),
    default=None,
    help="Run as the office or as a cash register (default: register once `pos join` was run).",
)
@click.pass_obj
def serve(
    state: CliState,
    host: str,
    port: int | None,
    no_browser: bool,
    demo: bool,
    allow_hosts: tuple[str, ...],
    webhook_listen: str | None,
    webhook_cert: str | None,
    webhook_key: str | None,
    pos_listen: str | None,
    pos_cert: str | None,
    pos_key: str | None,
    role: str | None,
) -> None:
    """Start the web interface and the scheduled processes."""
    webhook_tls = _webhook_tls(webhook_listen, webhook_cert, webhook_key)
    _run_server(
        state,
        host=host,
        port=port,
        no_browser=no_browser,
        demo=demo,
        allow_hosts=allow_hosts,
        webhook_listen=webhook_listen,
        with_tray=False,
        pos=_pos_options(pos_listen, pos_cert, pos_key),
        webhook_tls=webhook_tls,
        role=role,
    )


def _run_server(
    state: CliState,
    *,
    host: str,
    port: int | None,
    no_browser: bool,
    demo: bool,
    allow_hosts: tuple[str, ...] = (),
    webhook_listen: str | None = None,
    webhook_tls: dict[str, Any] | None = None,
    with_tray: bool,
    pos: dict[str, Any] | None = None,
    role: str | None = None,
) -> None:
    """`serve` and `tray`: one server per data folder, the processes, and the icon if asked."""
    from webapp import server
    from webapp.pos.listener import ListenerError
    from webapp.services import open_services

    hook_address = _host_port(webhook_listen) if webhook_listen else None
    logs.configure(state.data_dir, console=True)
    if state.data_dir.portable:
        click.echo(
            _("Relais runs in portable mode: its data is in {path}.", path=str(state.data_dir.path))
        )
    _install_staged_update(state)
    tray_missing = None
    if with_tray:
        from webapp import tray

        tray_missing = tray.desktop_missing()
        if tray_missing:
            click.echo(
                _(
                    "No desktop here: Relais runs without a tray icon ({reason}).",
                    reason=tray_missing,
                ),
                err=True,
            )
    try:
        with server.serve_lock(state.data_dir):
            services = open_services(state.data_dir)
            _unlock_from_environment(services)
            _start_role(services, role)
            stop_demo = None
            if demo:
                from webapp.demo import (
                    seed_demo,
                    start_prestashop_simulator,
                    start_scrada_simulator,
                )
                from webapp.pos.listener import enable_for_demo

                seed_demo(services)
                enable_for_demo(services)
                stop_demo = start_scrada_simulator(services)
                stop_shop = start_prestashop_simulator(services)
            options = server.ServeOptions(
                host=host,
                port=DEFAULT_PORT if port is None else port,
                fallback=port is None,
                open_browser=not no_browser,
                extra_hosts=list(allow_hosts),
                webhook_listen=hook_address,
                **(webhook_tls or {}),
                **(pos or {}),
            )
            try:
                prepared = server.prepare(services, options, announce=_announce)
                if with_tray and not tray_missing:
                    from webapp import tray

                    tray.run(services, prepared)
                else:
                    prepared.run()
            finally:
                if stop_demo:
                    stop_demo()
                    stop_shop()
    except server.AlreadyRunning as exc:
        where = exc.url or "?"
        click.echo(_("Relais already runs for this data folder: {url}", url=where), err=True)
        if exc.url and not no_browser:
            import webbrowser

            webbrowser.open(exc.url)
        sys.exit(EXIT_BAD_INPUT)
    except PortUnavailable as exc:
        fail(_("The port is already in use: {detail}", detail=str(exc)))
    except ListenerError as exc:
        fail(exc.translated())
    except KeyboardInterrupt:
        # Ctrl+C (or Ctrl+Break on Windows) before uvicorn took over the signals: a clean stop.
        logging.getLogger(__name__).info("interrupted while starting")
        sys.exit(0)


@click.command()
@click.option(
    "--port", type=int, default=None, help=f"Port (default {DEFAULT_PORT}, or the next free one)."
)
@click.option("--no-browser", is_flag=True, help="Do not open the browser.")
@click.option("--demo", is_flag=True, help="Seed demonstration data on first start.")
@click.pass_obj
def tray(state: CliState, port: int | None, no_browser: bool, demo: bool) -> None:
    """Like serve, with a system-tray icon (Open, Sync now, Pause, Quit) where a desktop exists."""
    _run_server(
        state, host=DEFAULT_HOST, port=port, no_browser=no_browser, demo=demo, with_tray=True
    )


def _start_role(services: Any, role: str | None) -> None:
    """The register role (chosen, or remembered by `pos join`) runs the synchroniser beside the
    server; it is stopped by ``services.close()`` on shutdown, before the store closes."""
    from webapp.pos import register

    if (role or register.role(services.store)) != "register":
        return
    if register.load_config(services.store) is None:
        services.close()
        fail(_("This data folder has not joined an office: run `relais pos join` first."))
    services.stoppers.append(register.start_synchroniser(services))


def _install_staged_update(state: CliState) -> None:
    """A downloaded update is installed when the built program starts (PLT-10)."""
    from webapp import updates

    try:
        updates.install_staged_at_start()
    except Exception:  # an update must never stop the current version from starting
        logging.getLogger(__name__).exception("installing the staged update failed")


def _host_port(value: str, message: str | None = None) -> tuple[str, int]:
    host, _sep, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        fail(message or _("Give the webhook address as HOST:PORT, for example 127.0.0.1:8766."))
    return host.strip("[]"), int(port)


def _pos_options(listen: str | None, cert: str | None, key: str | None) -> dict[str, Any]:
    """The POS listener's ServeOptions; a bad address or certificate stops here."""
    if not listen:
        if cert or key:
            fail(_("--pos-cert and --pos-key need --pos-listen."))
        return {}
    address = _host_port(
        listen, _("Give the POS listener address as HOST:PORT, for example 0.0.0.0:8770.")
    )
    if key and not cert:
        fail(_("--pos-key needs --pos-cert."))
    if cert:
        import ssl

        from webapp.asgi import check_certificate

        try:
            check_certificate(cert, key)
        except (OSError, ssl.SSLError) as exc:
            fail(_("The POS listener's certificate cannot be used: {detail}", detail=str(exc)))
    return {"pos_listen": address, "pos_cert": cert, "pos_key": key}


def _webhook_tls(listen: str | None, cert: str | None, key: str | None) -> dict[str, Any]:
    """HTTPS on the webhook listener (ServeOptions fields); a bad certificate stops here."""
    if (cert or key) and not listen:
        fail(_("--webhook-cert and --webhook-key need --webhook-listen."))
    if key and not cert:
        fail(_("--webhook-key needs --webhook-cert."))
    if not cert:
        return {}
    import ssl

    from webapp.asgi import check_certificate

    try:
        check_certificate(cert, key)
    except (OSError, ssl.SSLError) as exc:
        fail(_("The webhook listener's certificate cannot be used: {detail}", detail=str(exc)))
    return {"webhook_cert": cert, "webhook_key": key}


def _announce(url: str) -> None:
    click.echo(_("Relais listens on {url}", url=url), err=False)
    if sys.stdout is not None:  # a windowed build has none
        sys.stdout.flush()


def _unlock_from_environment(services: Any) -> None:
    from webapp.secrets import VaultError

    try:
        services.vault.unlock_from_environment(interactive=False)
    except VaultError as exc:
        click.echo(f"{_('Error')}: {exc.translated()}", err=True)
