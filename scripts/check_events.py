#!/usr/bin/env python3
"""The event contract, checked (schemas/events/catalogue.json, TYPE.schema.json, CATALOGUE.md).

  check_events.py contract BIN_DIR
      Runs every service binary BIN_DIR/NAME/NAME with --describe-events and holds what it publishes and
      subscribes to against the catalogue: every type a service publishes is catalogued with that service as its
      producer, and every catalogued type is published by its producer; every subscription names a (producer,
      type) that the catalogue lists and some service publishes, and every catalogued consumer subscribes. A
      subscription whose producer is still to come is allowed only when the catalogue marks it
      "awaiting_producer", and the mark must go when the producer publishes it. Every catalogued type has its
      schema and CATALOGUE.md a row naming the same producer and consumers.

  check_events.py validate CAPTURE_DIR [--min-events N]
      Validates every envelope the tests captured (*.jsonl, one envelope per line: common/testing/service_db.hpp
      and the integration harness write them when CROWD_EVENT_CAPTURE_DIR is set) against envelope.schema.json
      and its data against TYPE.schema.json (JSON Schema 2020-12, python3-jsonschema). Prints how many of each
      type were checked and which catalogued types no test published.

Exit status 0 when everything holds, 1 with every fault listed otherwise, 2 on bad usage.
"""

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "schemas" / "events"

# What --describe-events needs to build a service without its real secrets (nothing is served or written).
DESCRIBE_ENV = {
    "CROWD_TOKEN_SECRET": "describe-events-only-not-a-secret-0123456789",
    "CROWD_PII_KEY": "1" * 64,
    "CROWD_PII_HMAC_KEY": "2" * 64,
    "CROWD_PROVIDER_SECRET": "describe-events-only-provider-secret",
    "CROWD_OPERATOR_USERNAME": "ops",
    "CROWD_OPERATOR_PASSWORD": "describe-events-only",
}


def load_catalogue():
    cat = json.loads((EVENTS / "catalogue.json").read_text(encoding="utf-8"))
    return {e["type"]: e for e in cat["events"]}


def services_of(bin_dir):
    return sorted(p.name for p in Path(bin_dir).iterdir() if (p / p.name).is_file() and os.access(p / p.name, os.X_OK))


def describe(bin_dir, name):
    env = dict(os.environ)
    env.update(DESCRIBE_ENV)
    out = subprocess.run([str(Path(bin_dir) / name / name), "--describe-events"], env=env, capture_output=True,
                         text=True, timeout=20, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{name} --describe-events exited {out.returncode}: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


def catalogue_md_rows():
    """(type -> (producer, consumers)) from CATALOGUE.md's table."""
    rows = {}
    for line in (EVENTS / "CATALOGUE.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        types = re.findall(r"`([a-z_]+\.[a-z_]+)`", cells[0])
        producer = cells[1].split()[0]
        parts, depth, cur = [], 0, ""
        for ch in cells[3]:
            depth += ch == "("
            depth -= ch == ")"
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        consumers = sorted(p.strip().split()[0] for p in parts if p.strip() and not p.strip().startswith("("))
        for t in types:
            rows[t] = (producer, consumers)
    return rows


def contract(bin_dir):
    cat = load_catalogue()
    faults = []
    described = {}
    for name in services_of(bin_dir):
        try:
            described[name] = describe(bin_dir, name)
        except (RuntimeError, json.JSONDecodeError, subprocess.TimeoutExpired) as e:
            faults.append(str(e))
    if not described:
        faults.append(f"no service binary found under {bin_dir}")

    published_by = {}
    for name, d in described.items():
        for t in d["publishes"]:
            published_by.setdefault(t, []).append(name)
            entry = cat.get(t)
            if entry is None:
                faults.append(f"{name} publishes {t}, which the catalogue does not list")
            elif entry["producer"] != name:
                faults.append(f"{name} publishes {t}, whose catalogued producer is {entry['producer']}")

    for t, entry in cat.items():
        producers = published_by.get(t, [])
        awaiting = entry.get("awaiting_producer", False)
        if entry["producer"] in described:
            if awaiting and entry["producer"] in producers:
                faults.append(f"{t}: {entry['producer']} now publishes it: remove awaiting_producer from the catalogue")
            elif not awaiting and entry["producer"] not in producers:
                faults.append(f"{t}: catalogued producer {entry['producer']} does not publish it")
        elif not awaiting:
            faults.append(f"{t}: catalogued producer {entry['producer']} is no service")
        subscribers = sorted(n for n, d in described.items()
                             if any(s["type"] == t for s in d["subscribes"]))
        if subscribers != sorted(entry["consumers"]):
            faults.append(f"{t}: consumed by {subscribers or 'no service'}, the catalogue says {entry['consumers']}")
        if not (EVENTS / f"{t}.schema.json").is_file():
            faults.append(f"{t}: no schema {t}.schema.json")

    for name, d in described.items():
        for s in d["subscribes"]:
            entry = cat.get(s["type"])
            if entry is None:
                faults.append(f"{name} subscribes to {s['type']}, which the catalogue does not list")
                continue
            if entry["producer"] != s["producer"]:
                faults.append(f"{name} subscribes to {s['type']} from {s['producer']}, "
                              f"whose catalogued producer is {entry['producer']}")
            elif s["producer"] not in published_by.get(s["type"], []):
                if entry.get("awaiting_producer", False):
                    print(f"  awaiting its producer: {name} <- {s['producer']} {s['type']} (marked in the catalogue)")
                else:
                    faults.append(f"{name} subscribes to {s['type']} from {s['producer']}, which does not publish it")

    for path in EVENTS.glob("*.schema.json"):
        t = path.name[: -len(".schema.json")]
        if t != "envelope" and t not in cat:
            faults.append(f"{path.name}: no catalogue entry for {t}")
    md = catalogue_md_rows()
    for t, entry in cat.items():
        if t not in md:
            faults.append(f"CATALOGUE.md has no row for {t}")
        elif md[t] != (entry["producer"], sorted(entry["consumers"])):
            faults.append(f"CATALOGUE.md's row for {t} says producer {md[t][0]}, consumers {md[t][1]}; "
                          f"catalogue.json says {entry['producer']}, {sorted(entry['consumers'])}")
    for t in md:
        if t not in cat:
            faults.append(f"CATALOGUE.md lists {t}, catalogue.json does not")

    for name, d in sorted(described.items()):
        subs = ", ".join(f"{s['producer']}/{s['type']}" for s in d["subscribes"]) or "-"
        print(f"  {name}: publishes {len(d['publishes'])}, subscribes to {subs}")
    return faults


def validators():
    try:
        from jsonschema import Draft202012Validator, FormatChecker  # python3-jsonschema (scripts/setup.sh)
    except ImportError:
        # A python3 first on PATH that is not Debian's (a pyenv, a venv): Debian's has the package.
        debian = "/usr/bin/python3"
        if os.path.exists(debian) and os.path.realpath(sys.executable) != os.path.realpath(debian):
            os.execv(debian, [debian, *sys.argv])
        raise

    checker = FormatChecker()

    # python3-jsonschema checks date-time only with an optional module: check RFC 3339 here.
    @checker.checks("date-time", raises=ValueError)
    def _date_time(value):
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value):
            raise ValueError(f"{value!r} is not an RFC 3339 date-time")
        datetime.datetime.fromisoformat(re.sub(r"\.\d+", "", value).upper().replace("Z", "+00:00"))
        return True

    out = {}
    for path in EVENTS.glob("*.schema.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        out[path.name[: -len(".schema.json")]] = Draft202012Validator(schema, format_checker=checker)
    return out


def validate(capture_dir, min_events):
    cat = load_catalogue()
    schemas = validators()
    faults, seen, total = [], {}, 0
    files = sorted(Path(capture_dir).glob("*.jsonl")) if Path(capture_dir).is_dir() else []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            total += 1
            where = f"{path.name}:{n}"
            try:
                env = json.loads(line)
            except json.JSONDecodeError as e:
                faults.append(f"{where}: not JSON: {e}")
                continue
            for err in schemas["envelope"].iter_errors(env):
                faults.append(f"{where}: envelope: {err.json_path}: {err.message}")
            t = env.get("type", "?")
            seen[t] = seen.get(t, 0) + 1
            if t not in cat:
                faults.append(f"{where}: {t} is not in the catalogue")
            elif env.get("producer") != cat[t]["producer"]:
                faults.append(f"{where}: {t} produced by {env.get('producer')}, catalogued for {cat[t]['producer']}")
            v = schemas.get(t)
            if v is None:
                faults.append(f"{where}: no schema for {t}")
                continue
            for err in v.iter_errors(env.get("data")):
                faults.append(f"{where}: {t} {env.get('id')}: data{err.json_path[1:]}: {err.message}")
    for t in sorted(seen):
        print(f"  {seen[t]:6d}  {t}")
    unseen = sorted(t for t in cat if t not in seen)
    if unseen:
        print("  published by no test: " + ", ".join(unseen))
    print(f"  {total} events in {len(files)} files")
    if total < min_events:
        faults.append(f"only {total} events captured in {capture_dir} (at least {min_events} expected)")
    return faults


def main(argv):
    if len(argv) >= 2 and argv[0] == "contract":
        faults = contract(argv[1])
        what = "event contract"
    elif len(argv) >= 2 and argv[0] == "validate":
        min_events = int(argv[argv.index("--min-events") + 1]) if "--min-events" in argv else 1
        faults = validate(argv[1], min_events)
        what = "captured events"
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for f in faults[:200]:
        print("FAULT: " + f)
    if len(faults) > 200:
        print(f"... and {len(faults) - 200} more")
    print(f"{what}: {'OK' if not faults else f'{len(faults)} faults'}")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
