#!/usr/bin/env python3
"""Writes the reference data of today's Đồng Nai through the reform of 2025
into config/units/, from the official tables of the national statistics
office (NSO) as carried in the shared data directory (its README names the
sources and licences):

  config/units/dong_nai_versions.csv      every version of every unit of old
                                          Bình Phước (70), old Đồng Nai (75) and
                                          today's province 75, with its valid
                                          range [valid_from, valid_to)
  config/units/dong_nai_predecessors.csv  the commune edges old -> new into 75

Run at development time only; ioc never reads the shared directory:

  python3 scripts/units-dong-nai.py ../shared/data/units
"""

import csv
import sys
from pathlib import Path

REFORM = "2025-07-01"
SOURCE = ("# Source: NSO codes (QĐ 19/2025/QĐ-TTg) and the NSO conversion table, as carried in "
          "zindont/vn-address-kit (MIT, commit faa205f); written by scripts/units-dong-nai.py.")
REPO = Path(__file__).resolve().parent.parent


def rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def subtree(units, root):
    """Codes of `root` and everything under it, parents first."""
    children = {}
    for code, unit in units.items():
        children.setdefault(unit["parent_code"], []).append(code)
    order, todo = [], [root]
    while todo:
        code = todo.pop(0)
        order.append(code)
        todo.extend(sorted(children.get(code, [])))
    return order


def main(shared):
    before = {r["code"]: r for r in rows(shared / "vn_units_before_2025-07-01.csv")}
    after = {r["code"]: r for r in rows(shared / "vn_units_2025-07-01.csv")}
    changes = {r["code"]: r for r in rows(shared / "dong_nai_changes_2026-04-30.csv")}
    # Names before the Chơn Thành reform of 2022-10-01 (NQ 570/NQ-UBTVQH15),
    # kept by the Bình Phước reference files of ioc.
    former = {}
    for r in rows(REPO / "config/units/binh_phuoc_former_names.csv"):
        assert r["code"] not in former, f"one former name per code: {r['code']}"
        former[r["code"]] = r

    versions = []

    def version(code, name, level, parent, valid_from, valid_to):
        versions.append([code, name, level, parent, valid_from, valid_to])

    for root in ("70", "75"):
        for code in subtree(before, root):
            unit = before[code]
            old = former.get(code)
            if old:
                version(code, old["name"], unit["level"], unit["parent_code"],
                        old["valid_from"], old["valid_to"])
                version(code, unit["name"], unit["level"], unit["parent_code"], old["valid_to"], REFORM)
            else:
                version(code, unit["name"], unit["level"], unit["parent_code"], "", REFORM)
    for code in subtree(after, "75"):
        unit = after[code]
        change = changes.get(code)
        if change:
            assert change["name_before"] == unit["name"], (code, unit["name"])
            day = change["valid_from"]
            version(code, unit["name"], unit["level"], unit["parent_code"], REFORM, day)
            version(code, change["name"], unit["level"], unit["parent_code"], day, "")
        else:
            version(code, unit["name"], unit["level"], unit["parent_code"], REFORM, "")

    edges = [
        [e["old_code"], e["new_code"], e["kind"], REFORM]
        for e in rows(shared / "vn_predecessors_2025-07-01.csv")
        if e["new_province_code"] == "75"
    ]
    edges.sort(key=lambda e: (e[1], e[0]))

    # The facts of DOMAIN.md §7.1 and the data's README.
    def communes(units, root):
        return sum(1 for c in subtree(units, root) if units[c]["level"] == "commune")
    assert communes(before, "70") == 111 and communes(before, "75") == 159
    assert communes(after, "75") == 95 and len(edges) == 271
    assert sum(1 for e in edges if e[2] == "partial") == 2

    out = REPO / "config/units"
    with open(out / "dong_nai_versions.csv", "w", encoding="utf-8", newline="") as f:
        f.write("# Every version of the units of today's Đồng Nai and of the provinces it was made of:\n"
                "# old Bình Phước (70) and old Đồng Nai (75) with their districts until 2025-06-30 (with\n"
                "# the Chơn Thành names before 2022-10-01), the province 75 and its 95 communes from\n"
                "# 2025-07-01 (NQ 202/2025/QH15), Thành phố Đồng Nai and 10 new phường from 2026-04-30\n"
                "# (NQ 30/2026/QH16, NQ 237/NQ-UBTVQH16). A version is valid on [valid_from, valid_to);\n"
                "# empty ends are open. Codes are reused: (code, range) is a unit.\n"
                "# Limits: old Đồng Nai is its last list (June 2025) back to any date; its commune\n"
                "# arrangement of 2024 is not in the source. Provinces, districts and departments\n"
                "# have no edges (the source has commune edges only).\n")
        f.write(SOURCE + "\n")
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "level", "parent_code", "valid_from", "valid_to"])
        w.writerows(versions)
    with open(out / "dong_nai_predecessors.csv", "w", encoding="utf-8", newline="") as f:
        f.write("# The communes of today's Đồng Nai (75) and the communes they were made from on\n"
                "# 2025-07-01: kind whole (the old commune went entirely into the new one), partial\n"
                "# (part of it did) or unchanged.\n")
        f.write(SOURCE + "\n")
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["old_code", "new_code", "kind", "date"])
        w.writerows(edges)
    print(f"{len(versions)} versions, {len(edges)} edges")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else REPO.parent / "shared/data/units"))
