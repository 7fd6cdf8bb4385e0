"""Rebuild the labelled entity-resolution set (records.csv, pairs.csv) from its sources.

Run once, by hand, with the source files downloaded (see README.md in this folder)::

    python tests/data/er/build_set.py --forbes DIR --spb FILE [FILE …] --out tests/data/er

Labels come from identifiers, never from names: a Forbes Global 2000 company page
(the same firm in every year's list), an ISIN (the same security in every exchange
list), and the hand-labelled Russian registered names in ``ru_names.csv``.
Non-matching pairs are the hardest ones: for each record, the most similar names of
*other* firms in the same source.
"""

from __future__ import annotations

import argparse
import csv
import itertools
from pathlib import Path

from rapidfuzz import fuzz, process

HERE = Path(__file__).resolve().parent


def _forbes(folder: Path) -> list[dict[str, str]]:
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for path in sorted(folder.glob("forbes_*.csv")):
        year = path.stem.split("_")[1]
        with path.open(encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f):
                slug = (row.get("Forbes Webpage") or "").rstrip("/").split("/")[-1]
                if not slug:
                    continue
                key = (row["Company"].strip(), row["Country"].strip(), slug)
                rec = seen.setdefault(key, {"source": f"forbes-{year}", "name": key[0],
                                            "region": key[1], "entity": f"forbes:{slug}",
                                            "industry": (row.get("Industry") or "").strip(),
                                            "lists": ""})
                # a ranking names each firm once a year: the years this spelling is listed
                rec["lists"] = " ".join(filter(None, (rec["lists"], f"forbes-{year}")))
    return list(seen.values())


def _spb(files: list[Path]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for path in files:
        with path.open(encoding="cp1251") as f:
            for row in csv.DictReader(f, delimiter=";"):
                isin = (row.get("s_ISIN_code") or "").strip()
                name = " ".join((row.get("e_full_name") or "").split())
                if not isin or not name or "расписк" in (row.get("s_sec_type_name_dop") or ""):
                    continue
                inn = (row.get("e_INN_code") or "").strip()
                entity = f"inn:{inn}" if inn else f"isin:{isin}"
                seen.setdefault((name, entity), {"source": f"spb-{path.stem}", "name": name,
                                                 "region": isin[:2], "entity": entity})
    return list(seen.values())


def _ru() -> list[dict[str, str]]:
    with (HERE / "ru_names.csv").open(encoding="utf-8") as f:
        return [{"source": "ru-registered", "name": r["name_ru"], "region": "Russia",
                 "entity": f"forbes:{r['forbes_slug']}"} for r in csv.DictReader(f)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--forbes", type=Path, required=True)
    parser.add_argument("--spb", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    records = _forbes(args.forbes) + _spb(args.spb) + _ru()
    for i, rec in enumerate(records):
        rec["rec_id"] = f"r{i:05d}"
    pairs: dict[tuple[str, str], int] = {}
    by_entity: dict[str, list[dict[str, str]]] = {}
    for rec in records:
        by_entity.setdefault(rec["entity"], []).append(rec)
    for members in by_entity.values():  # every two spellings of one firm
        for a, b in itertools.combinations(members, 2):
            # a firm listed under another country one year is left out: a list's quirk
            if a["name"] != b["name"] and a["region"] == b["region"]:
                pairs[(a["rec_id"], b["rec_id"])] = 1
    by_family: dict[str, list[dict[str, str]]] = {}
    for rec in records:
        family = "ru" if rec["source"] == "ru-registered" else rec["source"].split("-")[0]
        by_family.setdefault("forbes" if family == "ru" else family, []).append(rec)
    for members in by_family.values():  # the most similar names of other firms
        names = [m["name"] for m in members]
        for rec in members:
            found = process.extract(rec["name"], names, scorer=fuzz.token_set_ratio, limit=8,
                                    score_cutoff=70)
            taken = 0
            for _name, _score, j in found:
                other = members[j]
                if other["entity"] == rec["entity"] or other["name"] == rec["name"]:
                    continue
                key = tuple(sorted((rec["rec_id"], other["rec_id"])))
                pairs.setdefault((key[0], key[1]), 0)
                taken += 1
                if taken == 2:
                    break
    # disagreements between the matcher and the page labels, checked by hand
    with (HERE / "corrections.csv").open(encoding="utf-8") as f:
        fixes = {(r["name_a"], r["name_b"], r["region"]): int(r["match"])
                 for r in csv.DictReader(f)}
    by_id = {r["rec_id"]: r for r in records}
    for (a, b) in list(pairs):
        ra, rb = by_id[a], by_id[b]
        x, y = sorted((ra["name"], rb["name"]))
        fix = fixes.get((x, y, ra["region"]))
        if fix is not None and ra["region"] == rb["region"]:
            pairs[(a, b)] = fix
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "records.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, ["rec_id", "source", "name", "region", "entity", "industry",
                               "lists"], restval="")
        w.writeheader()
        w.writerows(records)
    with (args.out / "pairs.csv").open("w", encoding="utf-8", newline="") as f:
        w2 = csv.writer(f)
        w2.writerow(["a", "b", "match"])
        for (a, b), label in sorted(pairs.items()):
            w2.writerow([a, b, label])


if __name__ == "__main__":
    main()
