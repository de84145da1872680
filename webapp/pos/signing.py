"""The register's signing key as the sales screen, the CLI and the JET use it (issue 17).

The key lives in the vault (webapp/pos/trail_keys.py); reading it there costs milliseconds (a
keyring), so it is read once per process and kept beside the vault it came from.
"""

from __future__ import annotations

import json
import weakref

from webapp.pos import trail_keys
from webapp.pos.trail_keys import Signer
from webapp.secrets import Vault
from webapp.store import Store

# The register's key, read from the vault once per process (a keyring read costs milliseconds):
# dropped as soon as the vault is found locked, so a locked vault always refuses the sale.
_SIGNERS: weakref.WeakKeyDictionary[Vault, Signer] = weakref.WeakKeyDictionary()


def signer_for(store: Store, vault: Vault) -> Signer:
    """The key this register signs its records with (made on first use); TrailKeyError when
    the vault is locked. Its public half is kept in the settings for `relais pos verify`."""
    if not vault.is_unlocked:
        _SIGNERS.pop(vault, None)
    signer = _SIGNERS.get(vault)
    if signer is None:  # ensure_signer refuses a locked vault with the reason shown to the seller
        signer = trail_keys.ensure_signer(vault)
        remember_public_key(store, signer)
        _SIGNERS[vault] = signer
    return signer


def remember_public_key(store: Store, signer: Signer) -> None:
    """Keep the public half in the settings (checking needs no vault); the first one stays."""
    with store.write() as db:
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            [trail_keys.PUBLIC_KEY_SETTING, json.dumps(signer.public_key)],
        )
