"""`--statistics`: how many findings per rule, most frequent first (a table, or JSON for --format json)."""

from __future__ import annotations

import json
from collections import Counter

from forklint.findings import Report


def render(report: Report, fmt: str) -> str:
    counts = Counter((f.code, f.name) for f in report.findings)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if fmt == "json":
        data = [{"code": code, "name": name, "count": n} for (code, name), n in rows]
        return json.dumps(data, indent=2) + "\n"
    width = max((len(str(n)) for n in counts.values()), default=1)
    return "".join(f"{n:>{width}}\t{code}\t{name}\n" for (code, name), n in rows)
