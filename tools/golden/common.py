"""What every golden script does after computing its cases: refuse non-finite numbers, check that torch runs the
portable (non-vectorised) kernels in float64 on one thread, and write one JSON fixture per case."""

import json
import math
import sys

import torch


def check_all_finite(value, where):
    if isinstance(value, float) and not math.isfinite(value):
        sys.exit(f'{where}: non-finite number {value}')
    if isinstance(value, dict):
        for v in value.values():
            check_all_finite(v, where)
    if isinstance(value, list):
        for v in value:
            check_all_finite(v, where)


def write_fixtures(out, root, cases, run_case):
    """Runs every case (names unique) and writes `out/<name>.json`, replacing the folder's old fixtures."""
    config = torch.__config__.show()
    if 'CPU capability usage: NO AVX' not in config and 'CPU capability usage: DEFAULT' not in config:
        sys.exit('ATEN_CPU_CAPABILITY=default did not take effect')
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob('*.json'):
        old.unlink()
    names = [c['name'] for c in cases]
    assert len(set(names)) == len(names)
    for spec in cases:
        fixture = run_case(spec)
        check_all_finite(fixture, spec['name'])
        path = out / f'{spec["name"]}.json'
        text = json.dumps(fixture, allow_nan=False, separators=(',', ':')) + '\n'
        path.write_text(text)
        print(f'{path.relative_to(root)}  {len(text)} bytes')
