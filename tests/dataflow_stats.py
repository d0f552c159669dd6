"""Read Timeloop's ``*.stats.txt`` (the reference outputs in tests/data/dataflow_exercises) into dicts.

Only what the tests compare: per storage level and data space the per-instance counts and the
energies, per level its leakage, cycles and bandwidth throttling; the compute level's energy; the
summary's cycles, energy and per-level fJ/Compute.
"""
from __future__ import annotations

import re
from pathlib import Path

FIELDS = {
    "Partition size": "partition_size", "Utilized capacity": "utilized_capacity",
    "Utilized instances (max)": "utilized_instances", "Scalar reads (per-instance)": "reads_per_instance",
    "Scalar fills (per-instance)": "fills_per_instance", "Scalar updates (per-instance)": "updates_per_instance",
    "Temporal reductions (per-instance)": "temporal_reductions", "Energy (total)": "energy_total_pj",
    "Address generations (per-cluster)": "address_generations",
}


def _num(text: str) -> float:
    return float(text.split()[0])


def read_stats(path: str | Path) -> dict:
    """``{"levels": {name: {"cycles", "throttling", "leakage_pj", "dataspaces": {ds: {...}}}},
    "compute": {"name", "energy_pj", "computes"}, "summary": {"cycles", "energy_uj", "fj_per_compute"}}``."""
    lines = Path(path).read_text().splitlines()
    levels: dict = {}
    compute: dict = {}
    summary: dict = {"fj_per_compute": {}}
    cur = ds = None
    section = ""
    in_fj = False
    for line in lines:
        if line.startswith("Operational Intensity Stats"):
            cur, section = None, "OI"
            continue
        m = re.match(r"^=== (.+) ===$", line.strip())
        if m and section != "OI":
            cur, ds = m.group(1), None
            continue
        s = line.strip()
        if s in ("SPECS", "STATS", "MAPPING") and section != "OI":
            section = s
            continue
        if line.startswith("Summary Stats"):
            cur, section = None, "SUMMARY"
            continue
        if section == "SUMMARY":
            if s.startswith("Cycles:"):
                summary["cycles"] = int(_num(s.split(":", 1)[1]))
            elif s.startswith("Energy:"):
                summary["energy_uj"] = _num(s.split(":", 1)[1])
            elif s.startswith("Computes ="):
                summary["computes"] = int(s.split("=")[1])
            elif s.startswith("fJ/Compute"):
                in_fj = True
            elif in_fj and "=" in s:
                k, v = s.split("=")
                summary["fj_per_compute"][k.strip()] = float(v)
            continue
        if cur is not None and s.endswith(":") and section == "STATS":
            ds = s[:-1]
            levels.setdefault(cur, {"dataspaces": {}})["dataspaces"][ds] = {}
            continue
        if cur is None or ":" not in s:
            continue
        key, val = (t.strip() for t in s.split(":", 1))
        if "Computes (total)" == key:
            compute.update(name=cur, computes=int(_num(val)))
        elif key == "Energy (total)" and cur == compute.get("name"):
            compute["energy_pj"] = _num(val)
        elif key == "Compute energy":
            compute["energy_per_op_pj"] = _num(val)
        elif cur != compute.get("name"):
            lv = levels.setdefault(cur, {"dataspaces": {}})
            if section == "SPECS" and key == "Leakage energy (total)":
                lv["leakage_pj"] = _num(val)
            elif section == "STATS" and key == "Cycles" and ds is None:
                lv["cycles"] = int(_num(val))
            elif section == "STATS" and key == "Bandwidth throttling":
                lv["throttling"] = _num(val)
            elif section == "STATS" and ds is not None and key in FIELDS:
                lv["dataspaces"][ds][FIELDS[key]] = _num(val)
    return {"levels": levels, "compute": compute, "summary": summary}
