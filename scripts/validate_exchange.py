#!/usr/bin/env python3
"""Validates tagtrail's security-exchange files; exits 1 naming every problem.

- OCSF (`findings.ocsf.jsonl`): each line is read as a Detection Finding by py-ocsf-models
  (PyPI, the OCSF 1.5.0 models Prowler writes its OCSF output with), and must survive the
  round trip unchanged: a member the model does not know, or of the wrong type, fails.
- ASFF (`findings.asff.json`): the array is checked by botocore's own parameter validator
  against the `Findings` member of Security Hub's `BatchImportFindings` (required members,
  types, lengths, unknown members).

usage: validate_exchange.py [--ocsf FILE] [--asff FILE]
"""
import argparse
import json
import sys


def ocsf_problems(path):
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    problems = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            record = json.loads(line)
            try:
                model = DetectionFinding.model_validate(record)
            except Exception as e:  # pydantic's ValidationError names the fields
                problems.append(f"{path}:{number}: {e}")
                continue
            back = json.loads(model.model_dump_json(exclude_none=True))
            if not same(record, back):
                problems.append(f"{path}:{number}: members the OCSF model does not keep: {diff(record, back)}")
    return problems


def same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def diff(a, b, at=""):
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{at}.{k}" for k in a.keys() - b.keys()]
        for k in a.keys() & b.keys():
            out += diff(a[k], b[k], f"{at}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{at}[{i}]")]
    return [] if a == b else [f"{at} ({a!r} != {b!r})"]


def asff_problems(path):
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    findings = json.load(open(path))
    problems = []
    # At most 100 findings a call: validate as the importer sends them.
    for start in range(0, len(findings), 100):
        report = ParamValidator().validate({"Findings": findings[start:start + 100]}, shape)
        if report.has_errors():
            problems.append(f"{path}: findings {start}..: {report.generate_report()}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ocsf")
    ap.add_argument("--asff")
    args = ap.parse_args()
    problems = (ocsf_problems(args.ocsf) if args.ocsf else []) + (asff_problems(args.asff) if args.asff else [])
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
