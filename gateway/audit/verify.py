"""Checking the whole chain: every record in sequence, linked to the previous one, unchanged, and the
triggers that keep it append-only exactly as the migration created them (compared by their SQL).

This cannot see a chain rewritten consistently (records changed, every later hash recomputed, the
newest records removed): :mod:`gateway.audit.checkpoint` compares it with signed checkpoints kept
outside the database."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.audit.chain import GENESIS, AuditEntry


@dataclass(frozen=True)
class Broken:
    seq: int
    uuid: str | None
    reason: str

    def __str__(self) -> str:
        who = f"record #{self.seq}" + (f" ({self.uuid})" if self.uuid else "")
        return f"{who}: {self.reason}"


@dataclass(frozen=True)
class VerifyResult:
    count: int
    head_seq: int
    head_hash: str
    broken: Broken | None
    #: Problems besides the first broken record (the triggers' lines), one line each.
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.problems

    def lines(self) -> list[str]:
        """Every problem found, one line each."""
        return ([str(self.broken)] if self.broken else []) + list(self.problems)


def verify(audit) -> VerifyResult:  # noqa: ANN001 - a storage.audit.AuditStore
    """Walk the chain in ``seq`` order; stop at the first broken record."""
    count, prev_seq, prev_hash = 0, 0, GENESIS
    triggers = tuple(audit.trigger_problems())

    def result(broken: Broken | None) -> VerifyResult:
        if triggers:  # reported first (as before), every trigger problem on its own line, the chain's after them
            first = Broken(0, None, "the triggers that refuse UPDATE and DELETE of audit rows are missing or altered")
            return VerifyResult(count, prev_seq, prev_hash, first, triggers + ((str(broken),) if broken else ()))
        return VerifyResult(count, prev_seq, prev_hash, broken)

    for row in audit.raw_rows():
        seq, uuid = row[0], row[1]
        try:
            entry = AuditEntry.from_row(row)
        except (ValueError, TypeError) as exc:
            return result(Broken(seq, uuid, f"unreadable record ({exc.__class__.__name__})"))
        if seq != prev_seq + 1:
            missing = f"#{prev_seq + 1}" if seq == prev_seq + 2 else f"#{prev_seq + 1}..#{seq - 1}"
            return result(Broken(seq, uuid, f"record {missing} is missing (deleted); this record does not "
                                            f"follow record #{prev_seq}"))
        if entry.prev_hash != prev_hash:
            return result(Broken(seq, uuid, f"does not follow record #{prev_seq} (previous hash differs: "
                                            "a record was changed, removed or inserted)"))
        if entry.compute_hash() != entry.hash:
            return result(Broken(seq, uuid, "content was changed after it was recorded (hash mismatch)"))
        count, prev_seq, prev_hash = count + 1, seq, entry.hash
    high = audit.high_water()
    if high > prev_seq:
        return result(Broken(prev_seq + 1, None, f"records #{prev_seq + 1}..#{high} are missing (deleted at the "
                                                 "end of the chain)"))
    return result(None)
