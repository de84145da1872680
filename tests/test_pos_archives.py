"""Monthly and yearly archives of a register's chains (issue 17): written, signed, checked alone.

The register is a real data folder; its tickets are recorded as `record_ticket` does (a ticket and
its chain row in one transaction). Tampering edits the ZIP the way an intruder would: a file in it
rewritten, a line dropped, the manifest changed, another key put in.
"""

from __future__ import annotations

from tests.test_pos_trail_core import REGISTER, record
from webapp.pos import trail_keys, trail_verify
from webapp.store import Store


def test_a_chain_checked_from_a_state_before_its_first_row(services: object) -> None:
    store: Store = services.store  # type: ignore[attr-defined]
    signer = trail_keys.new_signer()
    for number in range(1, 6):
        record(store, signer, number)
    with store.read() as db:
        rows = trail_verify.register_rows(db, REGISTER)
    keys = {signer.key_id: signer.public_key}
    states, _ = trail_verify.check_chains(rows[:3], keys)
    _, alone = trail_verify.check_chains(rows[3:], keys)
    assert [found.seq for found in alone] == [1]  # rows 4 and 5 alone: 1 to 3 are missing
    reached, breaks = trail_verify.check_chains(rows[3:], keys, start=states)
    assert breaks == []
    assert reached["ticket"].seq == 5
    assert states["ticket"].seq == 3  # the start is copied, not moved
