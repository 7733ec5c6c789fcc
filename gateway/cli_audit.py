"""``ncpeh audit``: verify the chain and its checkpoints, checkpoint it, export FHIR AuditEvents,
reconcile with another country's export, a patient's access history, one exchange.

Its group is registered on the ``ncpeh`` command by :mod:`gateway.cli`; what the commands share comes
from :mod:`gateway.cli_common`.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from gateway import audit_trail as trail
from gateway import errors
from gateway.audit import checkpoint, events
from gateway.audit.export import export_ndjson, parse_when
from gateway.audit.fhir import to_fhir
from gateway.audit.history import access_history
from gateway.audit.journal import Journal
from gateway.audit.reconcile import EXCHANGE_EVENTS, Exchanged, ExportError, read_export, reconcile
from gateway.audit.verify import verify as check_chain
from gateway.cli_common import country_option, fail, friendly_errors, open_store
from gateway.security.trustlist import load_signing_key
from gateway.services.access_history import resolve_patient
from gateway.services.audit_anchor import verification_keys, weaknesses, write_checkpoint


@click.group("audit")
def audit() -> None:
    """The audit trail: verify it, export it, a patient's access history."""

#: At most this many problem lines are printed (a rewrite early in the chain contradicts every later checkpoint).
MAX_PROBLEM_LINES = 20


@audit.command("verify")
@country_option
@click.option("--checkpoints", type=click.Path(path_type=Path),
              help="Checkpoint file to compare with (default: audit.checkpoint_file), e.g. a copy kept off the host.")
@click.option("--checkpoints-copy", "copy", type=click.Path(path_type=Path, dir_okay=False),
              help="A copy of the checkpoints kept off the host (the file shipped, or the journal's lines "
                   "'checkpoint FR <jws>' from a remote syslog): each of its checkpoints must be in the file.")
@friendly_errors
def verify(country: str, checkpoints: Path | None, copy: Path | None) -> None:
    """Check the hash chain, the triggers that keep it append-only and the signed checkpoints that anchor it.

    Prints one line per problem (the first broken record, an altered trigger, a checkpoint the chain
    contradicts or that is not validly signed, records left unanchored longer than the settings allow:
    the newest checkpoints removed, or the anchor stalled, a checkpoint of the copy missing from the file)
    and exits 1 when there is one. Warns (AUDIT_ANCHOR_WEAK) when the account that writes the database
    could also rewrite the checkpoints.
    """
    cfg, store = open_store(country)
    path = checkpoints or cfg.audit_checkpoints
    try:
        result = check_chain(store.audit)
        head = store.audit.head()
        try:
            found = checkpoint.lines(path)
        except FileNotFoundError:
            found = None
        except OSError as exc:
            fail(f"{path}: the checkpoint file cannot be read ({exc.strerror or exc})", code=1)
        keys = verification_keys(cfg)
        anchored = checkpoint.check(store.audit, found, keys, cfg.code) if found is not None else None
        stale = checkpoint.unanchored(store.audit, anchored.last if anchored else None, cfg.checkpoint_every,
                                      cfg.checkpoint_seconds)
        try:
            shipped = checkpoint.compare_copy(store.audit, found or [], checkpoint.copy_lines(copy), keys,
                                              cfg.code) if copy else None
        except OSError as exc:
            fail(f"{copy}: the copy of the checkpoints cannot be read ({exc.strerror or exc})", code=1)
    finally:
        store.close()
    for weakness in weaknesses(cfg, Journal()):
        click.echo(f"ncpeh: warning: AUDIT_ANCHOR_WEAK ({weakness.code}): {weakness.message}", err=True)
    problems = result.lines() + (anchored.problems if anchored else []) + (shipped.problems if shipped else [])
    count = head[2] if head else 0
    if not found and (checkpoints is not None or count >= cfg.checkpoint_every):
        what = "no checkpoint file" if found is None else "an empty checkpoint file"
        problems.append(f"{path}: {what}, though the chain holds {count} records: the checkpoints were removed, "
                        "or never written")
    elif checkpoints is None:  # the file the servers append to (a copy given with --checkpoints may lag)
        problems += stale
    if problems:
        for line in problems[:MAX_PROBLEM_LINES]:
            click.echo(f"ncpeh: error: {line}", err=True)
        if len(problems) > MAX_PROBLEM_LINES:
            click.echo(f"ncpeh: error: ... and {len(problems) - MAX_PROBLEM_LINES} more problems", err=True)
        if result.broken and result.broken.seq:
            summary = f"audit chain broken at record #{result.broken.seq} ({result.count} records verified before it)"
        else:
            summary = "the audit trail cannot be trusted"
        fail(f"{store.name}: {summary}; {len(problems)} problem(s) listed above", code=1)
    click.echo(f"audit chain intact: {result.count} records, head #{result.head_seq} {result.head_hash}")
    if anchored and anchored.last:
        later = f"; records after #{anchored.last.seq} are not anchored yet" if result.head_seq > anchored.last.seq else ""
        click.echo(f"anchored: {anchored.checkpoints} signed checkpoints in {path}, the last at {anchored.last.at} "
                   f"(record #{anchored.last.seq}){later}")
    else:
        click.echo(f"not anchored: no checkpoint in {path} yet ('ncpeh audit checkpoint' writes one)")
    if shipped:
        click.echo(f"compared with {copy}: its {shipped.compared} signed checkpoints are all in {path}"
                   + (f" ({shipped.ignored} other lines ignored)" if shipped.ignored else ""))
    else:
        click.echo("not compared with a copy kept off the host (--checkpoints-copy): whoever holds the signing "
                   "key can replace the file unnoticed")


@audit.command("checkpoint")
@country_option
@click.option("--checkpoints", type=click.Path(path_type=Path), help="Checkpoint file (default: audit.checkpoint_file).")
@friendly_errors
def checkpoint_now(country: str, checkpoints: Path | None) -> None:
    """Sign a checkpoint of the chain's head and append it to the checkpoint file (and the system journal)."""
    cfg, store = open_store(country)
    kid, key = load_signing_key(cfg)
    journal = Journal()
    path = checkpoints or cfg.audit_checkpoints
    try:
        line = write_checkpoint(cfg, store, key, kid, journal, path)
        head = store.audit.head()
    except OSError as exc:
        fail(f"{path}: the checkpoint cannot be written ({exc.strerror or exc})", code=1)
    finally:
        store.close()
    if head is None:
        click.echo("nothing to anchor: the audit trail is empty")
    elif line is None:
        click.echo(f"no new record since the last checkpoint in {path} (chain head #{head[0]}); "
                   "'ncpeh audit verify' compares them")
    else:
        click.echo(f"checkpoint of record #{head[0]} ({head[2]} records) appended to {path}"
                   + ("" if journal.available else f"; no system journal here ({journal.address} is absent)"))


@audit.command("export")
@country_option
@click.option("--since", required=True, help="Start: a date (2026-11-01), a timestamp, or a duration ago (24h, 7d).")
@click.option("--until", help="End (exclusive), same forms as --since.")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="NDJSON file to write (default: stdout).")
@friendly_errors
def export(country: str, since: str, until: str | None, output: Path | None) -> None:
    """Write the records as NDJSON of FHIR AuditEvents (IHE BALP), one per line."""
    try:
        start = parse_when(since)
        end = parse_when(until) if until else None
    except ValueError as exc:
        fail(str(exc))
    cfg, store = open_store(country)
    try:
        if output is None:
            count = export_ndjson(store.audit, sys.stdout.buffer, since=start, until=end, own_url=cfg.ncp.url)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            partial = output.with_name(output.name + ".partial")
            with open(partial, "wb") as out:
                count = export_ndjson(store.audit, out, since=start, until=end, own_url=cfg.ncp.url)
            partial.replace(output)
        store.audit.append(trail.draft(
            events.EXPORT, recorder=cfg.code, listener="cli", actor_type=events.ACTOR_OPERATOR,
            actor_id=trail.operator(), detail={"since": start, "until": end, "exported": count,
                                               "output": str(output) if output else "stdout"},
        ))
    finally:
        store.close()
    if output is not None:
        click.echo(f"{count} audit events written to {output}", err=True)


@audit.command("reconcile")
@country_option
@click.argument("export_file", metavar="OTHER_EXPORT", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--since", help="Our records from (same forms as export --since); default: all.")
@click.option("--until", help="Our records until (exclusive).")
@friendly_errors
def reconcile_command(country: str, export_file: Path, since: str | None, until: str | None) -> None:
    """Match our records of cross-border exchanges with the other country's export ('ncpeh audit export').

    Matched by request id: lists every call recorded on one side only and every summary whose digest
    differs, and exits 1 when there is one. Export the other side over a wider period than --since/--until.
    """
    try:
        start = parse_when(since) if since else None
        end = parse_when(until) if until else None
    except ValueError as exc:
        fail(str(exc))
    try:
        with open(export_file, "rb") as f:
            other = list(read_export(f))
    except OSError as exc:
        fail(f"{export_file}: cannot be read ({exc.strerror or exc})")
    except ExportError as exc:
        fail(f"{export_file}: {exc}")
    cfg, store = open_store(country)
    try:
        recorders = sorted({r.recorder for r in other if r.recorder != cfg.code})
        if len(recorders) != 1:
            fail(f"{export_file}: expected the records of one other country, found {recorders or 'none'}")
        theirs = recorders[0]
        own = [Exchanged.from_entry(e) for e in store.audit.exchanges(theirs, EXCHANGE_EVENTS, since=start, until=end)]
        seen = {r.request_id for r in own}
        for request_id in sorted({r.request_id for r in other} - seen):  # theirs, outside our period
            own += [Exchanged.from_entry(e) for e in store.audit.by_request_id(request_id)
                    if e.event in EXCHANGE_EVENTS and e.peer_country == theirs and e.side]
        result = reconcile(cfg.code, theirs, own, other)
        trail.record_admin(store, cfg.code, "audit.reconcile", detail={
            "peer_country": theirs, "since": start, "until": end, "matched": result.matched,
            "discrepancies": len(result.problems)})
    finally:
        store.close()
    for line in result.problems:
        click.echo(f"ncpeh: error: {line}", err=True)
    if not result.ok:
        fail(f"{len(result.problems)} exchange(s) with {theirs} do not reconcile ({result.matched} matched)", code=1)
    click.echo(f"{result.matched} exchanges with {theirs} reconciled: every call recorded on both sides, "
               "the same documents")


@audit.command("accesses")
@country_option
@click.option("--patient", required=True, help="Patient id or national identifier (system|value or bare value).")
@click.option("--limit", default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@friendly_errors
def accesses(country: str, patient: str, limit: int, as_json: bool) -> None:
    """Cross-border accesses to a patient's data answered by this country: when, who, why, outcome."""
    cfg, store = open_store(country)
    try:
        try:
            found = resolve_patient(store, cfg, patient)
        except errors.GatewayError as exc:
            fail(exc.message, code=1)
        if found is None:
            fail(f"no patient {patient}", code=1)
        items = access_history(store, found.id, limit)
        store.audit.append(trail.draft(
            events.ACCESS_HISTORY, recorder=cfg.code, listener="cli", actor_type=events.ACTOR_OPERATOR,
            actor_id=trail.operator(), patient_id=found.id, detail={"returned": len(items)},
        ))
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"patient": found.id, "country": cfg.code, "accesses": items}, indent=2))
        return
    if not items:
        click.echo(f"no cross-border access to patient {found.id}")
        return
    click.echo("when\taccess\tcountry\torganisation\trole\tpurpose\toutcome\trequest id")
    for item in items:
        outcome = item["outcome"] + (f" ({item['refusal_code']})" if item["refusal_code"] else "")
        click.echo("\t".join(str(v or "-") for v in (
            item["when"], item["access"], item["country"], item["organisation"], item["role"], item["purpose"],
            outcome, item["request_id"])))


@audit.command("show")
@country_option
@click.option("--request-id", required=True, help="The X-Request-ID of one exchange (the same on both sides).")
@click.option("--fhir", is_flag=True, help="As FHIR AuditEvents (NDJSON).")
@friendly_errors
def show(country: str, request_id: str, fhir: bool) -> None:
    """The records of one request (join both countries' trails on the request id)."""
    cfg, store = open_store(country)
    try:
        entries = store.audit.by_request_id(request_id)
    finally:
        store.close()
    for entry in entries:
        data = to_fhir(entry, cfg.ncp.url) if fhir else dataclasses.asdict(entry)
        click.echo(json.dumps(data, ensure_ascii=False))
